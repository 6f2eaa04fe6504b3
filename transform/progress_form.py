"""Layout 1, the printed progress form: 2-4 renderings per dump, each a header and section 2 (read by
transform/form_entries.py); every value is decided across the renderings."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from common.records import (
    DumpParseError,
    Finding,
    ParsedDump,
    PersonMention,
    ProjectHeader,
    ReportEntry,
    Vote,
)
from common.text import normalize_thai
from transform.consensus import NOTE_FIELD, consensus_across_renderings, decide, printed_spent_finding
from transform.form_entries import entry_votes, key_entries, read_entries
from transform.network_events import network_events
from transform.people import TitleBook, parse_person
from transform.text_mentions import (
    beyond_stated_count,
    district_mentions,
    network_numbers,
    school_mentions,
    within_networks,
)
from transform.values import PROJECT_CODE, parse_amount, parse_iso_datetime, read_or_find, unit_name

PAGE_TITLE = "แบบแสดงรายงานความก้าวหน้าและข้อมูลเกี่ยวกับโครงการ"
RENDERING_HEADING = re.compile(r"^\s*1\.\s*ชื่อโครงการและหน่วยงานที่รับผิดชอบ")
NAME_LABEL = re.compile(r"^\s*ชื่อโครงการ/กิจกรรม")
SECTION_2 = re.compile(r"^\s*2\.\s*รายงานความก้าวหน้าของโครงการ")
SIGN_OFF = re.compile(r"ขอรับรองว่า|ลงชื่อ\s*\.{2,}")
# markup of the web page's export: headings, then tags, escaped and doubled asterisks (no match crosses a line;
# two passes, each a fast scan for its first characters, remove what one pass of their alternation would)
_HEADING = re.compile(r"^#+[^\S\n]*", re.MULTILINE)
_MARKUP = re.compile(r"</?p>|</?[a-z]+[^>\n]*>|\\\*|\*\*", re.IGNORECASE)

HEADER_LABELS: dict[str, re.Pattern[str]] = {
    "name": re.compile(r"ชื่อโครงการ/กิจกรรม"),
    "code": re.compile(r"รหัสโครงการ"),
    "fiscal_year": re.compile(r"ปีงบประมาณ(?:\s*พ\.ศ\.?)?"),
    "start": re.compile(r"เริ่มต้นโครงการ"),
    "end": re.compile(r"สิ้นสุดโครงการ"),
    "budget": re.compile(r"งบประมาณที่ได้รับ"),
    "spent": re.compile(r"งบประมาณที่ใช้ไป"),
    "unit": re.compile(r"หน่วยงานที่รับผิดชอบ"),
    "officer": re.compile(r"ชื่อผู้รับผิดชอบ"),
    "coordinator": re.compile(r"ผู้ประสานงาน\s*สยป\.?"),
}
_HEADER_ANY = re.compile(
    r"^\s*(?:" + "|".join(f"(?P<{k}>{p.pattern})" for k, p in HEADER_LABELS.items())
    + r")[.\s…]*(?::\s*(?P<value>.*?))?\s*$"
)
_LABEL_STARTS = frozenset(p.pattern[0] for p in HEADER_LABELS.values())
CODE = re.compile(rf"\b({PROJECT_CODE})\b")

def form_lines(text: str) -> list[str]:
    """The dump's non-empty lines, normalised, without markup or page headers: the markup removed from the
    whole text in one pass, the lines then only trimmed."""
    body = normalize_thai(text, keep_lines=True)
    if body.startswith("#") or "\n#" in body:
        body = _HEADING.sub("", body)
    if "<" in body or "*" in body or "\\" in body:
        body = _MARKUP.sub("", body)
    return [ln for raw in body.split("\n") if (ln := raw.rstrip().strip(" ")) and PAGE_TITLE not in ln]


def split_renderings(lines: list[str]) -> list[list[str]]:
    """Cut the dump where a rendering's header starts ('1. ชื่อโครงการและ...', else the name label)."""
    starts: list[int] = []
    last_heading = -100
    for i, line in enumerate(lines):
        if "ชื่อโครงการ" not in line:  # both starts name the project: most lines are passed over here
            continue
        if RENDERING_HEADING.match(line):
            starts.append(i)
            last_heading = i
        elif NAME_LABEL.match(line) and i - last_heading > 8:
            starts.append(i)
            last_heading = i
    if not starts:
        return [lines]
    starts[0] = 0
    return [lines[a:b] for a, b in zip(starts, starts[1:] + [len(lines)], strict=True)]


def parse_progress_form(text: str, source: str, titles: TitleBook, passes: Sequence[str] | None = None,
                        ) -> ParsedDump:
    """passes: the texts of a document read more than once (OCR passes of a scan, transform/scanned.py), each
    cut into its renderings on its own; text is then their concatenation."""
    if passes is None:
        lines = form_lines(text)
        renderings = split_renderings(lines)
    else:
        renderings = [r for p in passes for r in split_renderings(form_lines(p))]
        lines = [ln for r in renderings for ln in r]
    header_votes: dict[str, list[str]] = {}
    people: list[PersonMention] = []
    votes: list[Vote] = []
    findings: list[Finding] = []
    for r, rendering in enumerate(renderings, start=1):
        votes.extend(_read_rendering(rendering, r, header_votes, people, findings, titles))
    header = decide_header(header_votes, findings)
    if not votes and header.project_code is None:
        raise DumpParseError(source, "progress form without a project code or any report")
    reports, report_findings = consensus_across_renderings(votes, source)
    findings.extend(report_findings)
    if spent := printed_spent_finding(header.reported_spent_thb, reports):
        findings.append(spent)
    full_text = "\n".join(lines)
    networks = tuple(network_numbers(full_text))
    schools = tuple(school_mentions(full_text))
    read_apart = passes is not None and len(passes) > 1  # a scan's OCR passes
    if read_apart:  # a digit OCR misread in one pass names a network of nobody's
        read_in = Counter(n for p in passes for n in set(network_numbers(p)))
        networks, left_out = beyond_stated_count(full_text, [n for n in networks if read_in[n] * 2 > len(passes)])
        if left_out:
            findings.append(Finding.of("networks_beyond_count", left_out))
        schools = within_networks(schools, networks)
    events, event_votes = network_events(_placed_notes(votes, reports), networks, findings)
    if read_apart:  # what a pass says of a network it misread is said of no network
        events = [e for e in events if e.network_no in networks]
    return ParsedDump(
        source_file=source, layout="progress_form", renderings=len(renderings), header=header,
        district_mentions=tuple(district_mentions(header_votes.get("unit", []))),
        people=tuple(people), reports=tuple(reports), networks=networks, schools=schools,
        votes=tuple(votes + event_votes), findings=tuple(findings), network_events=tuple(events),
    )


def _read_rendering(rendering: list[str], r: int, header_votes: dict[str, list[str]], people: list[PersonMention],
                    findings: list[Finding], titles: TitleBook) -> list[Vote]:
    """One rendering: its header's values join header_votes (its people join people); its report votes."""
    section_at = next((i for i, ln in enumerate(rendering) if SECTION_2.match(ln)), None)
    if section_at is None:
        section_at = next((i for i, ln in enumerate(rendering) if "รายงานครั้งที่" in ln), len(rendering))
    for name, value in read_header(rendering[:section_at]):
        header_votes.setdefault(name, []).append(value)
        if name in ("officer", "coordinator") and (person := parse_person(value, name, r, titles)):
            people.append(person)
    stream = rendering[section_at:]
    end = next((i for i, ln in enumerate(stream) if ("ลงชื่อ" in ln or "ขอรับรองว่า" in ln) and SIGN_OFF.search(ln)),
               len(stream))
    return entry_votes(key_entries(read_entries("\n".join(stream[:end]))), r, findings)


def _placed_notes(votes: list[Vote], reports: list[ReportEntry]) -> dict[int, list[tuple[int, str | None]]]:
    """Each report's narratives, rendering by rendering, where the rendering placed its narrative right: a
    narrative whose date is not the report's decided date belongs to another report in that rendering (its row
    label or position was shifted), so it says nothing of this one."""
    decided = {r.report_no: r.date for r in reports}
    dated = {(v.report_no, v.rendering): v.value for v in votes if v.field == "date"}
    notes: dict[int, list[tuple[int, str | None]]] = {}
    for v in votes:
        if v.field != NOTE_FIELD:
            continue
        own, agreed = dated.get((v.report_no, v.rendering)), decided.get(v.report_no)
        if own is None or agreed is None or own == agreed:
            notes.setdefault(v.report_no, []).append((v.rendering, v.value))  # type: ignore[arg-type]
    return notes


def read_header(lines: list[str]) -> list[tuple[str, str]]:
    """(field, raw value) pairs of one rendering's header; a label cut from its value by a page break
    takes the next line that starts with ':'."""
    found: list[tuple[str, str]] = []
    pending: str | None = None
    for line in lines:
        for cell in line.split("\t"):
            stripped = cell.strip()
            if not stripped:
                continue
            if pending and stripped.startswith(":"):
                found.append((pending, stripped[1:].strip()))
                pending = None
                continue
            if stripped[0] not in _LABEL_STARTS:  # most cells are prose: no label starts with their letter
                continue
            m = _HEADER_ANY.match(cell)
            if m is None:
                continue
            name = next(k for k in HEADER_LABELS if m.group(k) is not None)
            if m.group("value"):
                found.append((name, m.group("value")))
            elif ":" not in cell:
                pending = name
    return found


def decide_header(votes: dict[str, list[str]], findings: list[Finding]) -> ProjectHeader:
    """Each header field decided across the renderings' raw values (the majority; a tie is NULL)."""
    def pick(name: str, parse: Callable[[str], object]) -> Any:
        parsed = [v for raw in votes.get(name, [])
                  if (v := read_or_find(parse, raw, f"header {name}", findings)) is not None]
        value, settled = decide(parsed)
        if not settled:
            findings.append(Finding.of("unsettled_disagreement", f"header {name}: renderings disagree "
                                       f"({', '.join(map(str, parsed))}); stored NULL"))
        elif len(set(parsed)) > 1:
            minority = [(v, c) for v, c in Counter(parsed).most_common() if v != value]
            findings.append(Finding.of("renderings_disagree", f"header {name}: majority {value} over "
                                       + ", ".join(f"{v} x{c}" for v, c in minority)))
        return value

    return ProjectHeader(
        project_code=pick("code", _code), fiscal_year=pick("fiscal_year", _year), name_th=pick("name", _text),
        budget_thb=pick("budget", parse_amount), reported_spent_thb=pick("spent", parse_amount),
        start_date=pick("start", parse_iso_datetime), end_date=pick("end", parse_iso_datetime),
        unit_th=(unit := pick("unit", unit_name)), agency_th=agency_of_unit(unit),
    )


def agency_of_unit(unit: str | None) -> str | None:
    """The agency a form's unit names first ('สำนักงานเขตภาษีเจริญ / ฝ่ายการศึกษา / ฝ่ายการศึกษา', 'สำนักการศึกษา / ...')."""
    first = unit.split("/")[0].strip() if unit else ""
    return first if first.startswith("สำนัก") else None


def _code(raw: str) -> str | None:
    m = CODE.search(raw)
    return m.group(1) if m else None


def _year(raw: str) -> int | None:
    m = re.search(r"\d{4}", raw)
    return int(m.group(0)) if m else None


def _text(raw: str) -> str | None:
    return normalize_thai(raw) or None
