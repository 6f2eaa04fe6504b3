"""Documents read from PDF files and scans (extract/documents.py): their text made readable by the parsers,
and each OCR pass treated as one rendering of the document.

What OCR does to a printed Thai form, and what is undone here:
- tone marks and upper vowels dropped or swapped (ที่ -> ที, ทิ; เริ่ม -> เริม; ปี -> ปิ): the form's own
  phrases (its labels, statuses, headings) are restored wherever the consonants and vowels on the line agree
  with the phrase and only the marks differ. Names, schools and narratives are never rewritten: their variants
  go to the identity reconciliation as any misspelling does;
- lines of stray marks read as a line of their own ('1    dena      ow      ข'): dropped;
- a space before a dependent vowel ('ฝ่ าย', a PDF text layer's glyph clusters): removed, as no Thai word
  starts with one.
- a thousands comma read as a point, a space or twice ('60.000', '60, 000', '30,.000' after '=' or ':'), 'บาท'
  read 'um', the '::' before a report's date read ':' or '=:', an inner index whose ')' was read as a digit
  (transform/form_entries.py).
A number's digits are never guessed here: the passes fused by confidence (transform/fusion.py) and Thai digits
read glyph by glyph (extract/thai_digits.py) are readings; what the passes and they disagree on stays NULL.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from datetime import date

from rapidfuzz.distance import Levenshtein

from common.records import DumpParseError, Finding, ParsedDump, PersonMention, ProjectHeader
from common.text import MARKS
from transform.consensus import NOTE_FIELD, build_entries, decide
from transform.fusion import fused_rendering
from transform.parse import detect_layout, parse
from transform.people import TitleBook
from transform.progress_form import parse_progress_form
from transform.text_mentions import within_networks
from transform.values import fiscal_year_of

_MARK_CLASS = f"[{MARKS}]"
# the printed forms' own words: labels, headings, statuses (transform/status.py), the agency and unit words
FORM_PHRASES = (
    "แบบแสดงรายงานความก้าวหน้าและข้อมูลเกี่ยวกับโครงการ", "ชื่อโครงการและหน่วยงานที่รับผิดชอบโครงการ",
    "รหัสโครงการและชื่อโครงการ", "ชื่อโครงการ/กิจกรรม", "ชื่อโครงการ", "รหัสโครงการ", "ปีงบประมาณ", "เริ่มต้นโครงการ",
    "สิ้นสุดโครงการ", "งบประมาณที่ได้รับ", "งบประมาณที่ใช้ไป", "หน่วยงานที่รับผิดชอบ", "ชื่อผู้รับผิดชอบ",
    "ผู้ประสานงาน", "หลักการและเหตุผล", "รายงานความก้าวหน้าของโครงการและการใช้จ่ายงบประมาณ", "รายงานครั้งที่",
    "ความก้าวหน้าของงานฯ", "งบประมาณที่เบิกใช้", "ครั้งที่", "เป็นไปตามแผนแต่ควรติดตาม", "ไม่เป็นไปตามแผน",
    "เป็นไปตามแผน", "ไม่เป็นไปตามเป้าหมาย", "เป็นไปตามเป้าหมาย", "เครือข่ายโรงเรียนที่", "เครือข่ายที่", "เครือข่ายโรงเรียน", "เครือข่าย",
    "สำนักงานเขต", "ฝ่ายการศึกษา", "หัวหน้าฝ่ายการศึกษา", "ระยะเวลาดำเนินการ", "ตั้งแต่เดือน", "จำนวนเงิน",
    "เป็นค่าใช้จ่ายในการพัฒนาคุณภาพ", "เป้าหมาย", "งบประมาณ", "ลงชื่อ", "เบอร์โทร", "ได้แก่", "ดังนี้",
    "ความคืบหน้าโครงการ", "ผลการดำเนินงาน", "ผู้รับผิดชอบ",
    "ตุลาคม", "พฤศจิกายน", "ธันวาคม", "มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน", "พฤษภาคม", "มิถุนายน",
    "กรกฎาคม", "สิงหาคม", "กันยายน",
)
# where a line of a printed form starts (any other line is the previous one wrapped by the page's width): a
# label, a report, a value line, a section number, the title
_FORM_LINE_START = re.compile(
    r"^(?:ชื่อโครงการ|รหัสโครงการ|ปีงบประมาณ|เริ่มต้นโครงการ|สิ้นสุดโครงการ|งบประมาณที่|หน่วยงานที่รับผิดชอบ|ชื่อผู้รับผิดชอบ"
    r"|ผู้ประสานงาน|รายงานครั้งที่|รายงานความก้าวหน้า|แบบแสดงรายงาน|:|\d\.(?:\d)?\s*[ก-ฮ])")
_HYPHENATED = re.compile(r"[A-Za-z0-9]-$")  # 'COVID-' at a line's end, '19)' on the next: one word, 'COVID-19)'
_STATUS_START = re.compile(r"^(?:ไม่)?เป็นไปตาม")  # the statuses that end an entry, wrapped to a line of their own
_THAI = re.compile(r"[ก-๎]")
_SPACE_BEFORE_VOWEL = re.compile(r"(?<=[\u0e01-\u0e4e]) (?=[\u0e30-\u0e3a\u0e45\u0e47-\u0e4e])")
# '= 60.000 บาท', '= 45 000 บาท', '= 60, 000 บาท': OCR read the thousands comma as a dot or a space (the forms
# print whole baht: no amount after a '=' or ':' has groups of three decimals)
_AMOUNT = re.compile(r"([=:]\s*)(\d{1,3}(?:(?: ?[,.] ?| )\d{3})+)(?![\d.,])")
_WIDE_GAP = re.compile(r"\S {4,}\S")
# 'บาท' after an amount, read 'um', 'UM', 'Un'
_BAHT = re.compile(r"(?<=[\d๐-๙\-]) ?(?:[uU][mMnN]|[uU][nN][nN]|[uU]m\.)(?![A-Za-z])")
_DOUBLE_SEPARATOR = re.compile(r"(?<=\d)[,.]{2,}(?=\d{3}(?!\d))")  # '30,.000': one thousands comma, read twice
# 'รายงานครั้งที่1 : 22/10/2564', 'รายงานครั้งที่6 =: 21/03/2564': the '::' before a report's date misread
_REPORT_COLON = re.compile(r"(รายงานครั้งที่\s*\d{1,2})[:;=\-.,'\s]{0,6}(?=\d{1,2}\s*/\s*\d{1,2}\s*/\s*\d{4})")


def _phrase_pattern(phrase: str) -> str:
    """The phrase with its marks optional and any mark allowed after each letter."""
    out = []
    for ch in phrase:
        if ch in MARKS:
            continue
        out.append(r"\s*" if ch == " " else re.escape(ch) + _MARK_CLASS + "*")
    return "".join(out)


_PHRASES = sorted({p for p in FORM_PHRASES if any(ch in MARKS for ch in p)}, key=len, reverse=True)
# a phrase ends where a syllable does: 'เครือข่ายทางการศึกษา' does not hold 'เครือข่ายที่' (its ท goes on with า),
# and a phrase ending in a marked letter is not followed by a consonant, which would end that letter's syllable:
# 'เครือข่ายโรงเรียนทั้ง 3 เครือข่าย' does not hold 'เครือข่ายโรงเรียนที่' (ทั้ง ends with ง)
_AFTER_SYLLABLE = "(?![\u0e30-\u0e3a\u0e45\u0e47-\u0e4e])"
_PHRASE_RE = re.compile("|".join(
    f"(?P<p{i}>{_phrase_pattern(p)}){_AFTER_SYLLABLE}" + ("(?![ก-ฮ])" if p[-1] in MARKS else "")
    for i, p in enumerate(_PHRASES)))


def _restore(match: re.Match[str]) -> str:
    return _PHRASES[int(match.lastgroup[1:])]  # type: ignore[index]


def repair(text: str) -> str:
    """An OCR pass or a text layer made readable by the parsers (the module's docstring says what changes)."""
    lines = []
    for line in text.replace("\f", "\n").split("\n"):
        if _is_stray_marks(line):
            continue
        line = _JUNK_END.sub("", _JUNK_START.sub("", _SPACE_BEFORE_VOWEL.sub("", line)))
        line = _DOUBLE_SEPARATOR.sub(",", line)
        line = _BAHT.sub(" บาท", _AMOUNT.sub(_thousands, line))
        line = _REPORT_COLON.sub(r"\1 :: ", _PHRASE_RE.sub(_restore, line))
        lines.append(_label(line))
    return "\n".join(lines)


# a header label misread beyond its marks ('ขู่งบประมาณ พ.ศ. : 2569'): the label a line's text before its colon is
# within two letters of (of labels of six letters or more, the closest; never a tie)
HEADER_LABELS = ("ชื่อโครงการ/กิจกรรม", "รหัสโครงการ", "ปีงบประมาณ พ.ศ.", "เริ่มต้นโครงการ", "สิ้นสุดโครงการ",
                 "งบประมาณที่ได้รับ", "งบประมาณที่ใช้ไป", "หน่วยงานที่รับผิดชอบ", "ชื่อผู้รับผิดชอบ", "ผู้ประสานงาน สยป")
_LABELLED = re.compile(r"^(?P<label>[^:]{6,30}?)\s*:(?P<rest>.*)$")
_JUNK_START = re.compile(r"^[\s.,'\"|\-–_~”“‘’`]+(?=\S)")  # a scan's specks read before a line's first letter
_JUNK_END = re.compile(r"(?<=\S)(?:\s+[|'\"_~”“‘’`!\[\]]+)+\s*$")  # and after its last, apart from it


def _label(line: str) -> str:
    m = _LABELLED.match(line)
    if m is None or m.group("label") in HEADER_LABELS:
        return line
    seen = _skeleton(m.group("label").strip())
    ranked = sorted((Levenshtein.distance(seen, _skeleton(label)), label) for label in HEADER_LABELS)
    if ranked[0][0] <= 2 and ranked[0][0] < ranked[1][0]:
        return f"{ranked[0][1]} :{m.group('rest')}"
    return line


def unwrap_form(text: str) -> str:
    """A printed form's lines as the form has them, not as the page's width wrapped them: a line that does not
    start a label, a report or a section, after a line as wide as the page's, continues it (with no space
    between Thai letters: a line breaks inside a Thai phrase, where no space is written; nor after a Latin
    word's hyphen: 'COVID-' and '19)'). A line after a shorter one starts a paragraph."""
    lines = [s for line in text.split("\n") if (s := line.strip())]
    widths = sorted(_width(s) for s in lines)
    full = 0.8 * widths[int(len(widths) * 0.9)] if widths else 0
    out: list[str] = []
    previous = 0  # the width of the line before, as printed
    for line in lines:
        if out and (previous >= full or out[-1].endswith((":", "=")) or _STATUS_START.match(line)) \
                and not _FORM_LINE_START.match(line):
            joined = (_THAI.match(line[0]) and _THAI.match(out[-1][-1])) or (
                _HYPHENATED.search(out[-1]) and line[0].isalnum())
            out[-1] += ("" if joined else " ") + line
        else:
            out.append(line)
        previous = _width(line)
    return "\n".join(out)


def _skeleton(text: str) -> str:
    return "".join(ch for ch in text if ch not in MARKS)


def _width(line: str) -> int:
    """A line's width in letters (marks above and below take none)."""
    return sum(1 for ch in line if ch not in MARKS)


def _thousands(match: re.Match[str]) -> str:
    return match.group(1) + re.sub(r"[ .,]+", ",", match.group(2))


def _is_stray_marks(line: str) -> bool:
    """A line OCR made of the marks above a line: wide gaps between tokens of one or two characters."""
    tokens = line.split()
    gaps = len(_WIDE_GAP.findall(line))
    if len(tokens) >= 2 and gaps >= 1 and all(len(t) <= 2 for t in tokens):
        return True
    if len(tokens) < 3 or gaps < 2:
        return False
    short = sum(1 for t in tokens if len(t) <= 2)
    return short >= 0.6 * len(tokens) and not any(len(t) >= 6 for t in tokens)


def parse_document(passes: Sequence[str], source: str, titles: TitleBook,
                   confidences: Sequence[str] = ()) -> ParsedDump:
    """A document read in one or more passes -> one ParsedDump, every pass a rendering of it, and one more
    when tesseract's `confidences` of the passes are known: the passes fused by them (transform/fusion.py). A
    printed form's renderings are voted by its own consensus (report values in audit_value_vote); a proposal's
    or a web page's header is voted field by field across them; a tie is NULL with its finding."""
    fused = fused_rendering(passes, confidences)
    texts = [repair(p) for p in (*passes, *([fused] if fused is not None else []))]
    layouts = [detect_layout(t) for t in texts]
    ranked = Counter(layout for layout in layouts if layout).most_common()
    if not ranked:
        raise DumpParseError(source, "a PDF or scan whose text is not a progress form, web progress page or "
                                     "proposal")
    layout = ranked[0][0]
    if layout == "progress_form":
        texts = [repair(unwrap_form(t)) for t in texts]  # again: a phrase the page's width cut is whole now
        dump = parse_progress_form("\n".join(texts), source, titles, passes=texts)
        return increments_after_gaps_to_null(misread_reports_to_null(misread_years_to_null(dump)))
    dumps = []
    for text, found in zip(texts, layouts, strict=True):
        if found == layout:
            try:
                dumps.append(parse(text, source, titles))
            except DumpParseError:
                continue
    if not dumps:
        raise DumpParseError(source, f"no pass of this {layout.replace('_', ' ')} could be read")
    return misread_years_to_null(merge_passes(dumps))


FIRST_YEAR = 2550  # the BMA's project tracking began after this Buddhist-Era year: an earlier one is a misread


def misread_years_to_null(dump: ParsedDump) -> ParsedDump:
    """What every pass misread alike, where it shows: tesseract reads Thai digits of a blurred scan
    consistently wrong (๒๕๖๙ as ๒๕๒๕), so the passes agree on it. A fiscal year before FIRST_YEAR or after next
    year, a project period outside its fiscal year, or a budget of nothing is stored NULL with its finding, never
    as read."""

    h = dump.header
    findings = list(dump.findings)
    latest = date.today().year + 543 + 1
    fiscal_year, start, end = h.fiscal_year, h.start_date, h.end_date
    if fiscal_year is not None and not FIRST_YEAR <= fiscal_year <= latest:
        findings.append(Finding.of("implausible_value", f"header fiscal_year: {fiscal_year} as read is no year "
                                   f"of a project ({FIRST_YEAR}-{latest}): a misread digit; stored NULL"))
        fiscal_year = None
    period_year = fiscal_year_of(start) if start is not None and end is not None and \
        fiscal_year_of(start) == fiscal_year_of(end) else None
    if fiscal_year is not None and period_year is not None and fiscal_year != period_year:
        findings.append(Finding.of("implausible_value", f"header fiscal_year: {fiscal_year} as read is not the year "
                                   f"of the project's period ({start.isoformat()} - {end.isoformat()}, both read "
                                   "alike): a misread digit; stored NULL"))
        fiscal_year = None  # the period's year is stored below, with its finding
    for name, value in (("start_date", start), ("end_date", end)):
        if value is None:
            continue
        be = value.year + 543
        plausible = fiscal_year - 1 <= be <= fiscal_year if fiscal_year else FIRST_YEAR - 1 <= be <= latest
        if not plausible:
            findings.append(Finding.of("implausible_value", f"header {name}: {value.isoformat()} as read lies "
                                       "outside the project's fiscal year: a misread digit; stored NULL"))
            start, end = (None, end) if name == "start_date" else (start, None)
    if fiscal_year is None and end is not None:  # the period's end is printed in digits OCR reads well (ISO)
        fiscal_year = fiscal_year_of(end)  # the BMA's year ends on 30 September
        findings.append(Finding.of("fiscal_year_from_period", f"header fiscal_year: not read; {fiscal_year}, the "
                                   f"year the project period ends in ({end.isoformat()}), is stored"))
    budget = h.budget_thb
    if budget is not None and budget <= 0:  # '๙๐,๐๐๐' read '๐,๐๐๐': a project is never given nothing
        findings.append(Finding.of("implausible_value", f"header budget_thb: {budget} as read is no budget a "
                                   "project is given: a misread digit; stored NULL"))
        budget = None
    if (fiscal_year, start, end, budget) == (h.fiscal_year, h.start_date, h.end_date, h.budget_thb):
        return dump
    header = replace(h, fiscal_year=fiscal_year, start_date=start, end_date=end, budget_thb=budget)
    return replace(dump, header=header, findings=tuple(findings))


def misread_reports_to_null(dump: ParsedDump) -> ParsedDump:
    """What every pass that read a report misread alike, where its neighbours show it: a report dated in a
    year neither the report before nor the one after is in ('21/03/2566' between 2021-02 and 2021-04: a misread
    year digit), or a running total below the one before that a thousand (or a hundred) times over would fit
    between its neighbours ('90.00' for 90,000: the comma read as a point) is stored NULL with its finding. A
    total that goes down otherwise is kept as read (the published check running_total_never_decreases)."""
    reports = sorted(dump.reports, key=lambda r: r.report_no)
    findings = list(dump.findings)
    dates = [r.date for r in reports]
    totals = [r.cumulative_thb for r in reports]
    for i, r in enumerate(reports):
        before = next((d for d in reversed(dates[:i]) if d is not None), None)
        after = next((d for d in dates[i + 1:] if d is not None), None)
        if r.date is not None and before is not None and after is not None and before <= after and \
                not before.year <= r.date.year <= after.year:
            findings.append(Finding.of("implausible_value", f"report {r.report_no} date: {r.date.isoformat()} as "
                                       f"read lies in a year neither report {r.report_no}'s neighbours are in "
                                       f"({before.isoformat()}, {after.isoformat()}): a misread digit; stored NULL"))
            dates[i] = None
        low = next((t for t in reversed(totals[:i]) if t is not None), None)
        high = next((t for t in totals[i + 1:] if t is not None), None)
        total = r.cumulative_thb
        if total is not None and low is not None and total < low and \
                any(low <= total * k and (high is None or total * k <= high) for k in (100, 1000)):
            findings.append(Finding.of("implausible_value", f"report {r.report_no} cumulative_thb: {total} as "
                                       f"read is below report {r.report_no}'s predecessor ({low}) by a point "
                                       "read for a thousands comma; stored NULL"))
            totals[i] = None
    if dates == [r.date for r in reports] and totals == [r.cumulative_thb for r in reports]:
        return dump
    decided = {r.report_no: {"date": dates[i], "progress_pct": r.progress_pct, "cumulative_thb": totals[i],
                             "plan_status": r.plan_status, "target_status": r.target_status, NOTE_FIELD: r.note_th}
               for i, r in enumerate(reports)}
    return replace(dump, reports=tuple(build_entries(decided, findings)), findings=tuple(findings))


def increments_after_gaps_to_null(dump: ParsedDump) -> ParsedDump:
    """A report's increment when the running total of the report before it was not read: not known (the money
    may have moved in either month), stored NULL with its finding; its running total is kept. A dump's text is
    read whole and keeps the increment since the previous known total; a scan's unread total is OCR's gap."""
    totals = {r.report_no: r.cumulative_thb for r in dump.reports}
    findings = list(dump.findings)
    reports = []
    for r in dump.reports:
        if r.disbursed_thb is not None and r.report_no > 1 and totals.get(r.report_no - 1) is None:
            findings.append(Finding.of("increment_unknown", f"report {r.report_no}: running total {r.cumulative_thb}"
                                       f" read, report {r.report_no - 1}'s not; its increment is stored NULL"))
            r = replace(r, disbursed_thb=None)
        reports.append(r)
    if len(findings) == len(dump.findings):
        return dump
    return replace(dump, reports=tuple(reports), findings=tuple(findings))


def merge_passes(dumps: Sequence[ParsedDump]) -> ParsedDump:
    """Dumps of the same document, one per pass -> one: each value decided by the passes' agreement."""
    if len(dumps) == 1:
        return dumps[0]
    findings: list[Finding] = []

    def vote(field: str, read: list[object]) -> object:
        values = [v for v in read if v is not None and v != ()]  # a pass that did not find a value does not vote
        value, settled = decide(values)
        if not settled:
            findings.append(Finding.of("unsettled_disagreement", f"header {field}: OCR passes disagree ("
                                       + ", ".join(map(str, values)) + "); stored NULL"))
        elif len(set(values)) > 1:
            findings.append(Finding.of("renderings_disagree", f"header {field}: majority {value} over "
                                       + ", ".join(str(v) for v in values if v != value)))
        return value

    headers = [d.header for d in dumps]
    header = ProjectHeader(**{name: vote(name, [getattr(h, name) for h in headers])
                              for name in ProjectHeader.__dataclass_fields__})
    first = dumps[0]
    people: list[PersonMention] = [replace(p, rendering=r) for r, d in enumerate(dumps, start=1) for p in d.people]
    common = set(first.findings).intersection(*(set(d.findings) for d in dumps[1:]))
    networks = vote("networks", [d.networks for d in dumps])
    reports = vote("reports", [d.reports for d in dumps])
    headline = vote("headline", [d.headline for d in dumps])
    return replace(first, renderings=len(dumps), header=header, people=tuple(people),
                   district_mentions=tuple(m for d in dumps for m in d.district_mentions),
                   networks=networks or (), reports=reports or (), headline=headline,
                   schools=within_networks([s for d in dumps for s in d.schools], networks or ()),
                   findings=tuple(f for f in first.findings if f in common) + tuple(findings))
