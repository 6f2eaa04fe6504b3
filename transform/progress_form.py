"""Layout 1, the printed progress form: 2-4 renderings per dump, each a header and section 2.

Section 2 of a rendering is read as a stream of fragments (row label, dated or undated narrative,
progress, running total with its inner index, status phrases). A narrative opens an entry and the
fragments after it attach to it, whatever page breaks or table cells lie between. Entries are keyed
by the inner index "(ครั้งที่ N)" when they carry one; the others by their position between keyed
neighbours, the row label only breaking ties, since table renderings shift row labels by one.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from common.records import (
    DumpParseError,
    Finding,
    ParsedDump,
    PersonMention,
    ProjectHeader,
    Vote,
)
from common.text import normalize_thai
from transform.consensus import consensus_across_renderings
from transform.people import TitleBook, parse_person
from transform.status import classify_status
from transform.text_mentions import district_mentions, network_numbers, school_mentions
from transform.values import parse_amount, parse_be_date, parse_iso_datetime, parse_percent

PAGE_HEADER = re.compile(r"แบบแสดงรายงานความก้าวหน้าและข้อมูลเกี่ยวกับโครงการ")
RENDERING_HEADING = re.compile(r"^\s*1\.\s*ชื่อโครงการและหน่วยงานที่รับผิดชอบ")
NAME_LABEL = re.compile(r"^\s*ชื่อโครงการ/กิจกรรม")
SECTION_2 = re.compile(r"^\s*2\.\s*รายงานความก้าวหน้าของโครงการ")
SIGN_OFF = re.compile(r"ขอรับรองว่า|ลงชื่อ\s*\.{2,}")
_MARKUP = re.compile(r"</?p>|</?[a-z]+[^>]*>|\\\*|\*\*|^#+\s*", re.IGNORECASE)

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
CODE = re.compile(r"\b(50\d{2}0000-\d{4})\b")

TOKEN = re.compile(
    r"(?P<label>รายงานครั้งที่\s*(?P<label_no>\d{1,2})(?!\d))"
    r"|(?P<dated>::\s*(?P<date>\d{1,2}\s*/\s*\d{1,2}\s*/\s*\d{4})\s*:?)"
    r"|(?P<progress>ความก้าวหน้าของงาน\S*\s*=\s*(?P<pct>\d+(?:[.,]\d+)?)\s*%?)"
    r"|(?P<amount>งบประมาณที่เบิกใช้\s*\(\s*ครั้งที่\s*(?P<inner>\d{1,3})\s*\)\s*=\s*"
    r"(?P<amt>-?\d[\d,]*(?:\.\d+)?)(?:\.-)?\s*(?:บาท)?)"
    r"|(?P<status>:\s*(?P<phrase>(?:ไม่\s*)?เป็นไป[^:\t\n]*))"
    r"|(?P<undated>::(?!\s*(?:ความก้าวหน้า|งบประมาณ|\d{1,2}\s*/))\s*(?=\S))"
)


@dataclass
class _Entry:
    """One entry of one rendering before keying (mutable while the stream is read)."""

    label: int | None = None
    has_narrative: bool = False
    date: date | None = None
    date_text: str | None = None
    note_parts: list[str] = field(default_factory=list)
    progress: Decimal | None = None
    inner: int | None = None
    amount: Decimal | None = None
    plan: str | None = None
    target: str | None = None
    unknown_statuses: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)  # values no column can hold


def clean_line(line: str) -> str:
    if "<" in line or "*" in line or "#" in line or "\\" in line:
        line = _MARKUP.sub("", line)
    return line.rstrip()


def split_renderings(lines: list[str]) -> list[list[str]]:
    """Cut the dump where a rendering's header starts ('1. ชื่อโครงการและ...', else the name label)."""
    starts: list[int] = []
    last_heading = -100
    for i, line in enumerate(lines):
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


def parse_progress_form(text: str, source: str, titles: TitleBook) -> ParsedDump:
    lines = [clean_line(raw).strip(" ") for raw in normalize_thai(text, keep_lines=True).split("\n")]
    lines = [ln for ln in lines if ln.strip() and not PAGE_HEADER.search(ln)]
    renderings = split_renderings(lines)
    header_votes: dict[str, list[str]] = {}
    people: list[PersonMention] = []
    votes: list[Vote] = []
    findings: list[Finding] = []
    for r, rendering in enumerate(renderings, start=1):
        section_at = next((i for i, ln in enumerate(rendering) if SECTION_2.match(ln)), None)
        if section_at is None:
            section_at = next((i for i, ln in enumerate(rendering) if "รายงานครั้งที่" in ln), len(rendering))
        for name, value in read_header(rendering[:section_at]):
            header_votes.setdefault(name, []).append(value)
            if name in ("officer", "coordinator"):
                person = parse_person(value, name, r, titles)
                if person:
                    people.append(person)
        stream = rendering[section_at:]
        end = next((i for i, ln in enumerate(stream) if SIGN_OFF.search(ln)), len(stream))
        entries = read_entries("\n".join(stream[:end]))
        votes.extend(entry_votes(key_entries(entries), r, findings))
    header = decide_header(header_votes, findings, source)
    if not votes and header.project_code is None:
        raise DumpParseError(source, "progress form without a project code or any report")
    reports, report_findings = consensus_across_renderings(votes, source)
    findings.extend(report_findings)
    full_text = "\n".join(lines)
    return ParsedDump(
        source_file=source, layout="progress_form", renderings=len(renderings), header=header,
        district_mentions=tuple(district_mentions(header_votes.get("unit", []))),
        people=tuple(people), reports=tuple(reports),
        networks=tuple(network_numbers(full_text)), schools=tuple(school_mentions(full_text)),
        votes=tuple(votes), findings=tuple(findings),
    )


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
            m = _HEADER_ANY.match(cell)
            if m is None:
                continue
            name = next(k for k in HEADER_LABELS if m.group(k) is not None)
            if m.group("value"):
                found.append((name, m.group("value")))
            elif ":" not in cell:
                pending = name
    return found


def decide_header(votes: dict[str, list[str]], findings: list[Finding], source: str) -> ProjectHeader:
    def pick(name: str, parse):  # noqa: ANN001 - small local helper
        parsed = []
        for raw in votes.get(name, []):
            try:
                value = parse(raw)
            except ValueError:
                findings.append(Finding("impossible_value", "warning", f"header {name}: {raw!r} is not valid"))
                continue
            if value is not None:
                parsed.append(value)
        if not parsed:
            return None
        ranked = Counter(parsed).most_common()
        if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
            findings.append(Finding("unsettled_disagreement", "warning",
                                    f"header {name}: renderings disagree ({', '.join(map(str, parsed))}); "
                                    "stored NULL"))
            return None
        if len(ranked) > 1:
            findings.append(Finding("renderings_disagree", "warning",
                                    f"header {name}: majority {ranked[0][0]} over "
                                    + ", ".join(f"{v} x{c}" for v, c in ranked[1:])))
        return ranked[0][0]

    def code(raw: str) -> str | None:
        m = CODE.search(raw)
        return m.group(1) if m else None

    def year(raw: str) -> int | None:
        m = re.search(r"\d{4}", raw)
        return int(m.group(0)) if m else None

    def text(raw: str) -> str | None:
        return normalize_thai(raw) or None

    return ProjectHeader(
        project_code=pick("code", code), fiscal_year=pick("fiscal_year", year), name_th=pick("name", text),
        budget_thb=pick("budget", parse_amount), reported_spent_thb=pick("spent", parse_amount),
        start_date=pick("start", parse_iso_datetime), end_date=pick("end", parse_iso_datetime),
        unit_th=pick("unit", text),
    )


def read_entries(section: str) -> list[_Entry]:
    """Fragments of one rendering's section 2, in order, grouped into entries."""
    entries: list[_Entry] = []
    current: _Entry | None = None
    pending_label: int | None = None
    after_progress = False
    matches = list(TOKEN.finditer(section))
    for i, m in enumerate(matches):
        gap_end = matches[i + 1].start() if i + 1 < len(matches) else len(section)
        kind = m.lastgroup
        if kind == "label":
            pending_label = int(m.group("label_no"))
            continue
        if kind in ("dated", "undated"):
            current = _Entry(label=pending_label, has_narrative=True)
            pending_label = None
            after_progress = False
            entries.append(current)
            if kind == "dated":
                current.date_text = m.group("date")
                try:
                    current.date = parse_be_date(current.date_text)
                except ValueError:
                    current.date = None  # impossible date: the vote says 'absent', a finding says why
            note = _note_text(section[m.end():gap_end])
            if note:
                current.note_parts.append(note)
            continue
        if current is None or _occupied(current, kind, m):
            current = _Entry(label=pending_label)
            pending_label = None
            after_progress = False
            entries.append(current)
        if kind == "progress":
            try:
                current.progress = parse_percent(m.group("pct"))
            except ValueError as exc:
                current.rejected.append(str(exc))
            after_progress = True
        elif kind == "amount":
            current.inner = int(m.group("inner"))
            try:
                current.amount = parse_amount(m.group("amt"))
            except ValueError as exc:
                current.rejected.append(str(exc))
            after_progress = True
        elif kind == "status":
            reading = classify_status(m.group("phrase"))
            if reading.plan is None and reading.target is None:
                current.unknown_statuses.append(m.group("phrase").strip())
            if reading.plan and (current.plan is None or after_progress):
                current.plan = reading.plan
            if reading.target and (current.target is None or after_progress):
                current.target = reading.target
    return entries


def _occupied(entry: _Entry, kind: str | None, m: re.Match[str]) -> bool:
    """A fragment that the open entry already holds starts a new (implicit) entry."""
    if kind == "progress":
        return entry.progress is not None
    if kind == "amount":
        return entry.amount is not None or (entry.inner is not None and entry.inner != int(m.group("inner")))
    return False


def _note_text(raw: str) -> str:
    text = re.sub(r"\s+", " ", raw).strip(" :")
    return text


def key_entries(entries: list[_Entry]) -> dict[int, _Entry]:
    """Report number of each entry: inner index, else position between keyed neighbours, else label."""
    keys: list[int | None] = [None] * len(entries)
    taken: dict[int, int] = {}
    for i, entry in enumerate(entries):
        if entry.inner is not None and entry.inner not in taken:
            keys[i] = entry.inner
            taken[entry.inner] = i
    anchors = [i for i, k in enumerate(keys) if k is not None]
    for i, entry in enumerate(entries):
        if keys[i] is not None or entry.inner is not None:
            continue
        prev = max((a for a in anchors if a < i), default=None)
        nxt = min((a for a in anchors if a > i), default=None)
        fwd = keys[prev] + (i - prev) if prev is not None else None  # type: ignore[operator]
        bwd = keys[nxt] - (nxt - i) if nxt is not None else None  # type: ignore[operator]
        candidates = {c for c in (fwd, bwd) if c is not None}
        if not candidates:
            key = entry.label if entry.label is not None else i + 1
        elif len(candidates) == 1 and (entry.label is None or fwd is not None and bwd is not None
                                       or entry.label in candidates):
            key = candidates.pop()
        elif entry.label in candidates:
            key = entry.label
        else:
            continue  # position and label disagree: this rendering's entry cannot be placed
        low = keys[prev] if prev is not None else 0
        high = keys[nxt] if nxt is not None else 10**6
        if key in taken or not (low < key < high):  # type: ignore[operator]
            continue
        keys[i] = key
        taken[key] = i
    return {k: entries[i] for k, i in taken.items()}


def entry_votes(keyed: dict[int, _Entry], rendering: int, findings: list[Finding]) -> list[Vote]:
    votes: list[Vote] = []
    for no, e in sorted(keyed.items()):
        if e.has_narrative:
            votes.append(Vote(no, "date", rendering, e.date))
            if e.date is None and e.date_text:
                findings.append(Finding("impossible_date", "warning",
                                        f"report {no} (rendering {rendering}): {e.date_text} is not a real date"))
            if e.note_parts:
                votes.append(Vote(no, "note", rendering, " ".join(e.note_parts)))
        for name, value in (("progress_pct", e.progress), ("cumulative_thb", e.amount),
                            ("plan_status", e.plan), ("target_status", e.target)):
            if value is not None:
                votes.append(Vote(no, name, rendering, value))
        for why in e.rejected:
            findings.append(Finding("implausible_value", "warning", f"report {no} (rendering {rendering}): {why}; "
                                    "stored NULL"))
        for phrase in e.unknown_statuses:
            findings.append(Finding("unknown_status", "warning",
                                    f"report {no} (rendering {rendering}): status phrase {phrase!r} fits no status"))
    return votes
