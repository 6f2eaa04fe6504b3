"""One entry point for every layout: parse(text, source) -> ParsedDump, or DumpParseError; and the rule
that a file the parsers cannot read is quarantined with the reason, never a crash of the run."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from common.records import DumpParseError, ParsedDump
from transform.people import TitleBook, title_book
from transform.progress_form import parse_progress_form
from transform.proposal import parse_proposal
from transform.web_progress import is_web_progress, parse_web_progress


def detect_layout(text: str) -> str | None:
    """'progress_form', 'web_progress', 'proposal', or None when the text is none of them."""
    if "แบบแสดงรายงานความก้าวหน้า" in text or ("รายงานครั้งที่" in text and "ความก้าวหน้าของงาน" in text):
        return "progress_form"
    if is_web_progress(text):
        return "web_progress"
    if "ชื่อโครงการ" in text and "หน่วยงานที่รับผิดชอบ" in text and "ปีงบประมาณ" in text:
        return "proposal"
    return None


def parse(text: str, source: str, titles: TitleBook | None = None) -> ParsedDump:
    """Parse one dump of any layout; raises DumpParseError when it is none of the three."""
    titles = titles or title_book(None)
    layout = detect_layout(text)
    if layout == "progress_form":
        return parse_progress_form(text, source, titles)
    if layout == "web_progress":
        return parse_web_progress(text, source, titles)
    if layout == "proposal":
        return parse_proposal(text, source, titles)
    raise DumpParseError(source, "not a progress form, web progress page or proposal")


# A parser bug met on one file (an exception of these kinds) quarantines that file with the exception's
# name and message, and the run goes on: the other files are not held hostage by one odd dump.
PARSER_FAILURES = (ValueError, IndexError, KeyError, TypeError, ArithmeticError, RecursionError)


def parse_or_quarantine(text: Any, source: str, titles: TitleBook,
                        parser: Callable[[Any, str, TitleBook], ParsedDump] | None = None,
                        ) -> tuple[ParsedDump | None, str | None]:
    """(dump, None) when the text is a report, else (None, why it is quarantined); `parser` (parse by
    default) reads `text`: transform/scanned.parse_document reads the passes of a scan."""
    try:
        return (parser or parse)(text, source, titles), None
    except DumpParseError as exc:
        return None, exc.why
    except PARSER_FAILURES as exc:
        return None, f"parser error: {type(exc).__name__}: {exc}"
