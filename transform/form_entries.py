"""Section 2 of a printed progress form: one rendering's report entries, read as a stream of fragments.

A narrative ("รายงานครั้งที่ N :: DD/MM/YYYY : text") opens an entry and the fragments after it (progress,
running total with its inner index "(ครั้งที่ N)", statuses) attach to it, whatever page breaks or table
cells lie between; a fragment the open entry already holds starts an implicit one. Entries are keyed by
their inner index when they carry one; the others by their position between keyed neighbours, the row
label only breaking ties, since table renderings shift row labels by one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from common.records import Finding, Vote
from transform.status import classify_status
from transform.values import implausible, parse_amount, parse_be_date, parse_percent, read_value

# Each alternative starts with its first character outside its group: the regular expression engine then
# skips to the next candidate character instead of trying every alternative at every position (5x faster).
# The progress and amount labels allow a letter more or less between their words ('งบประมาณทที่เบิกใช้',
# 'ความก้าวหน้าข้องงานๆ': a scan's misreads the restoring of marks cannot undo), the inner 'ครั้งที่' any word
# ('(asa 1)'), the '=' a '-', and a speck's dash before the amount is no minus ('= - 30,000').
TOKEN = re.compile(
    r"ร(?P<label>ายงานครั้งที่\s*(?P<label_no>\d{1,2})(?!\d))"
    r"|:(?P<dated> ?:\s*(?P<date>\d{1,2}\s*/\s*\d{1,2}\s*/\s*\d{4})\s*:?)"
    r"|ค(?P<progress>วาม[^\s=]{0,14}?งาน\S*\s*=\s*(?P<pct>\d+(?:[.,]\d+)?)\s*%?)"
    r"|ง(?P<amount>บ[^\s(=]{0,16}?เบิก[^\s(=]{0,6}\s*[(\s]*(?:ครั้งที่|[^\s()=\d]{1,10})\s*(?P<inner>\d{1,3})\s*"
    r"(?P<close>[)\]}|?])?\s*(?:=|-(?=\s+\d))\s*(?:-\s+(?=\d))?(?P<amt>-?\d[\d,]*(?:\.\d+)?)(?:\.-)?\s*(?:บาท)?)"
    r"|:(?P<status>\s*(?P<phrase>(?:ไม่\s*)?เป็นไป[^:\t\n]*))"
    r"|:(?P<undated>:(?!\s*(?:ความก้าวหน้า|งบประมาณ|\d{1,2}\s*/))\s*(?=\S))"
)

_SPACES = re.compile(r"\s+")
_LEADING_ZERO = re.compile(r"-?0[\d,]")


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
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (raw, why): values no column can hold


class _EntryReader:
    """The fragments of one rendering's section 2, in order, grouped into entries."""

    def __init__(self, section: str):
        self.section = section
        self.entries: list[_Entry] = []
        self.current: _Entry | None = None
        self.pending_label: int | None = None
        self.after_progress = False  # a status after the progress line is the entry's own, not a leftover

    def read(self) -> list[_Entry]:
        matches = list(TOKEN.finditer(self.section))
        for i, m in enumerate(matches):
            kind = m.lastgroup
            if kind == "label":
                self.pending_label = int(m.group("label_no"))
            elif kind in ("dated", "undated"):
                gap_end = matches[i + 1].start() if i + 1 < len(matches) else len(self.section)
                self._narrative(m, self.section[m.end():gap_end])
            else:
                if self.current is None or _occupied(self.current, kind, m):
                    self._open(_Entry(label=self.pending_label))
                self._fragment(kind, m, self.current)  # type: ignore[arg-type]
        return self.entries

    def _open(self, entry: _Entry) -> None:
        self.current = entry
        self.pending_label = None
        self.after_progress = False
        self.entries.append(entry)

    def _narrative(self, m: re.Match[str], gap: str) -> None:
        entry = _Entry(label=self.pending_label, has_narrative=True)
        self._open(entry)
        if m.lastgroup == "dated":
            entry.date_text = m.group("date")
            # an impossible date (31/02) votes 'absent'; entry_votes records the finding
            entry.date, _ = read_value(parse_be_date, entry.date_text)
        note = _SPACES.sub(" ", gap).strip(" :")
        if note:
            entry.note_parts.append(note)

    def _fragment(self, kind: str | None, m: re.Match[str], entry: _Entry) -> None:
        if kind == "progress":
            entry.progress, why = read_value(parse_percent, m.group("pct"))
            if why:
                entry.rejected.append((m.group("pct"), why))
            self.after_progress = True
        elif kind == "amount":
            entry.inner = _inner(m.group("inner"), m.group("close") is not None, entry.label)
            entry.amount, why = read_value(parse_amount, m.group("amt"))
            if why is None and _LEADING_ZERO.match(m.group("amt")):  # '01': a form prints no leading zero
                entry.amount, why = None, "an amount with a leading zero: a misread digit"
            if why:
                entry.rejected.append((m.group("amt"), why))
            self.after_progress = True
        elif kind == "status":
            reading = classify_status(m.group("phrase"))
            if reading.plan is None and reading.target is None:
                entry.unknown_statuses.append(m.group("phrase").strip())
            if reading.plan and (entry.plan is None or self.after_progress):
                entry.plan = reading.plan
            if reading.target and (entry.target is None or self.after_progress):
                entry.target = reading.target


def _inner(digits: str, closed: bool, label: int | None) -> int | None:
    """The inner index of "(ครั้งที่ N) = ...": report numbers start at 1 (a 0 is a misread digit), and a scan's
    ')' is read as a digit, mostly '1' ("(ครั้งที่ 11 = 0 บาท" of report 1, "(ครั้งที่ 22 =" of report 2): an
    unclosed number that is the entry's label and one digit more is the label; one ending in 1 that is neither
    the label nor that is no index (None)."""
    number = int(digits) or None
    if len(digits) < 2 or label == number:
        return number
    shorter = int(digits[:-1]) or None
    if not closed and (label == shorter or digits.endswith("1")):  # ')' read as the digit after the label
        return label if label == shorter else None
    # closed, the label and one digit more: a speck read as a digit ('(ครั้งที่ 89)' of report 8) or a digit
    # the label lost; the entry's position decides
    return None if label is not None and label == shorter else number


def read_entries(section: str) -> list[_Entry]:
    """Fragments of one rendering's section 2, in order, grouped into entries."""
    return _EntryReader(section).read()


def _occupied(entry: _Entry, kind: str | None, m: re.Match[str]) -> bool:
    """A fragment that the open entry already holds starts a new (implicit) entry."""
    if kind == "progress":
        return entry.progress is not None
    if kind == "amount":
        inner = _inner(m.group("inner"), m.group("close") is not None, entry.label)
        return entry.amount is not None or (entry.inner is not None and entry.inner != inner)
    return False


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
        key = _key_by_position(i, entry.label, keys[prev] if prev is not None else None, prev,
                               keys[nxt] if nxt is not None else None, nxt)
        low = keys[prev] if prev is not None else 0
        high = keys[nxt] if nxt is not None else 10**6
        if key is None or key in taken or not (low < key < high):  # type: ignore[operator]
            continue
        keys[i] = key
        taken[key] = i
    return {k: entries[i] for k, i in taken.items()}


def _key_by_position(i: int, label: int | None, prev_key: int | None, prev: int | None, next_key: int | None,
                     nxt: int | None) -> int | None:
    """The report number entry i takes from its keyed neighbours (prev, nxt: their positions), its row
    label breaking ties; None when position and label disagree (this rendering's entry cannot be placed)."""
    fwd = prev_key + (i - prev) if prev_key is not None and prev is not None else None
    bwd = next_key - (nxt - i) if next_key is not None and nxt is not None else None
    candidates = {c for c in (fwd, bwd) if c is not None}
    if not candidates:
        return label if label is not None else i + 1
    if len(candidates) == 1 and (label is None or fwd is not None and bwd is not None or label in candidates):
        return candidates.pop()
    return label if label in candidates else None


def entry_votes(keyed: dict[int, _Entry], rendering: int, findings: list[Finding]) -> list[Vote]:
    votes: list[Vote] = []
    for no, e in sorted(keyed.items()):
        if e.has_narrative:
            votes.append(Vote(no, "date", rendering, e.date))
            if e.date is None and e.date_text:
                findings.append(Finding.of("impossible_date", f"report {no} (rendering {rendering}): {e.date_text} "
                                           "is not a real date"))
            if e.note_parts:
                votes.append(Vote(no, "note", rendering, " ".join(e.note_parts)))
        for name, value in (("progress_pct", e.progress), ("cumulative_thb", e.amount),
                            ("plan_status", e.plan), ("target_status", e.target)):
            if value is not None:
                votes.append(Vote(no, name, rendering, value))
        where = f"report {no} (rendering {rendering})"
        findings.extend(implausible(where, raw, why) for raw, why in e.rejected)
        findings.extend(Finding.of("unknown_status", f"{where}: status phrase {phrase!r} fits no status")
                        for phrase in e.unknown_statuses)
    return votes
