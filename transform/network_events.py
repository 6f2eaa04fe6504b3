"""What a report's narrative says network by network: allotted ('เครือข่ายละ 90,000.- บาท'), activity held,
in progress, disbursed ('เครือข่ายที่ 54 และเครือข่ายที่ 55 เบิกจ่ายแล้ว'), or not disbursed and why
('เครือข่ายโรงเรียนที่ 53 ไม่ได้ดำเนินการเบิกจ่าย เนื่องจาก...'), read from each rendering's narrative and decided
across renderings like every other value.

A narrative is cut into clauses at its network subjects ('เครือข่ายที่ 53', 'เครือข่ายที่ 54 และเครือข่ายที่ 55',
'เครือข่ายทั้ง 3 เครือข่าย' for all of the project's networks): what follows a subject up to the next one is what
is said of it. Negation is read before anything else ('ไม่ได้ดำเนินการเบิกจ่าย' is never `disbursed`). An
allotment is usually said of the networks together, before they are listed ('จัดสรรงบประมาณให้...ทั้ง 3
เครือข่าย เครือข่ายละ 90,000.- บาท ดังนี้ 1. เครือข่ายที่ 53 โรงเรียน...'): a listed network with nothing said
of its own takes it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from common.records import Finding, NetworkEvent, Vote
from common.text import normalize_thai
from transform.consensus import decide
from transform.values import parse_amount, read_value

_NET = r"เครื่?อง?ข่าย(?:โรงเรียน)?"  # OCR writes เครือข่าย as เครื่องข่าย (dump 001)
_ONE = re.compile(_NET + r"\s*ที่\s*(?P<nos>\d{1,2}(?!\d)(?:\s*(?:,|และ|/)\s*\d{1,2}(?!\d))*)")
_ALL = re.compile(r"(?:" + _NET + r"\s*)?(?:ทั้ง(?:หมด)?\s*(?P<count>\d{1,2})\s*" + _NET + r"|ทุก" + _NET + ")")
_JOINER = re.compile(r"^\s*(?:และ|,|/|หรือ)?\s*$")
_EACH = re.compile(_NET + r"ละ\s*(?P<amount>\d[\d,]*(?:\.\d+)?)\s*(?:\.-)?\s*บาท")
_AMOUNT = re.compile(r"(?:จำนวน(?:เงิน)?|เป็นเงิน)\s*(?P<amount>\d[\d,]*(?:\.\d+)?)\s*(?:\.-)?\s*บาท")
_NOT_DISBURSED = re.compile(r"(?:ไม่|ยังไม่)(?:ได้)?\s*(?:ดำเนินการ)?\s*(?:ขอ)?\s*(?:อนุมัติ)?\s*เบิกจ่าย"
                            r"|ไม่สามารถ\s*(?:ดำเนินการ)?\s*เบิกจ่าย")
_DISBURSED = re.compile(r"เบิกจ่าย(?:เงิน)?\s*(?:แล้ว|เรียบร้อย|ครบ)|ได้รับการเบิกจ่าย")
_IN_PROGRESS = re.compile(r"อยู่ระหว่าง|กำลังดำเนินการ|เตรียมการ|ประชุมวางแผน|วางแผนกำหนด")
_DONE = re.compile(r"เรียบร้อยแล้ว|เสร็จสิ้น|แล้วเสร็จ|จัด\S*แล้ว")
_ALLOCATED = re.compile(r"จัดสรร|ได้รับงบประมาณ|โอนเงิน")
_REASON = re.compile(r"เนื่องจาก\s*(?P<reason>.+?)\s*(?:จึง|ทำให้|$)")
_MISREAD_NETWORK = re.compile("เครื่องข่าย|เครือ่ข่าย")
_LIST_TAIL = re.compile(r"\s*(?:และ|ดังนี้)?\s*(?:\d{1,2}\.)?\s*$")
# when one note says several things of one network, the one that tells most of where its money stands
PRECEDENCE = ("not_disbursed", "disbursed", "in_progress", "activity_done", "allocated")
EVENT_FIELD, AMOUNT_FIELD, REASON_FIELD = "network_event", "network_amount", "network_reason"


@dataclass(frozen=True, slots=True)
class Said:
    """What one rendering's narrative says of one network."""

    event: str
    amount: object  # Decimal | None
    reason: str | None
    sentence: str


def read_narrative(note: str, networks: Sequence[int]) -> dict[int, Said]:
    """Network -> what this narrative says of it (networks: the project's, for 'ทั้ง 3 เครือข่าย')."""
    text = normalize_thai(note)
    subjects = _subjects(text, networks)
    if not subjects:
        return {}
    preamble = text[: subjects[0][0]]
    allotted = bool(_ALLOCATED.search(preamble))
    said: dict[int, Said] = {}
    for i, (start, end, nos) in enumerate(subjects):
        predicate = text[end: subjects[i + 1][0] if i + 1 < len(subjects) else len(text)]
        event = classify(predicate) or ("allocated" if allotted else None)
        if event is None:
            continue
        clause = text[start: end + len(predicate)]
        sentence = _LIST_TAIL.sub("", clause if event == classify(predicate) else preamble + clause).strip(" ,")
        amount = _amount(predicate, preamble, text, event)
        reason = _reason(predicate) if event in ("not_disbursed", "in_progress") else None
        for no in nos:
            known = said.get(no)
            if known is None or PRECEDENCE.index(event) < PRECEDENCE.index(known.event):
                said[no] = Said(event, amount if amount is not None or known is None else known.amount, reason,
                                sentence)
            elif known.event == event and known.amount is None and amount is not None:
                said[no] = Said(event, amount, known.reason, known.sentence)
    return said


def classify(predicate: str) -> str | None:
    """The event a clause states; negation first, then the most advanced state it names."""
    text = predicate.replace(" ", "")
    if _NOT_DISBURSED.search(text):
        return "not_disbursed"
    if _DISBURSED.search(text):
        return "disbursed"
    if _IN_PROGRESS.search(text):
        return "in_progress"
    if _DONE.search(text) and "ไม่ได้ดำเนินการ" not in text:
        return "activity_done"
    if _ALLOCATED.search(text):
        return "allocated"
    return None


def _subjects(text: str, networks: Sequence[int]) -> list[tuple[int, int, list[int]]]:
    """(start, end, networks) of each subject, neighbours joined by 'และ' or a comma merged into one."""
    found: list[tuple[int, int, list[int]]] = []
    for m in _ALL.finditer(text):
        count = m.group("count")
        if networks and (count is None or int(count) == len(networks)):
            found.append((m.start(), m.end(), list(networks)))
    taken = [(s, e) for s, e, _ in found]
    for m in _ONE.finditer(text):
        if any(s <= m.start() < e for s, e in taken):
            continue
        nos = [int(n) for n in re.findall(r"\d{1,2}", m.group("nos"))]
        found.append((m.start(), m.end(), [n for n in nos if 1 <= n <= 80]))
    found.sort()
    merged: list[tuple[int, int, list[int]]] = []
    for start, end, nos in found:
        if merged and _JOINER.match(text[merged[-1][1]:start]):
            merged[-1] = (merged[-1][0], end, merged[-1][2] + [n for n in nos if n not in merged[-1][2]])
        else:
            merged.append((start, end, nos))
    return [s for s in merged if s[2]]


def _amount(predicate: str, preamble: str, note: str, event: str) -> object:
    """The amount said of the clause's networks: its own ('จำนวน 90,000 บาท'), else the sentence's; an amount
    'each' ('เครือข่ายละ 90,000.- บาท') said anywhere in an allotment holds for every network it names."""
    if event not in ("allocated", "disbursed"):
        return None
    for text in (predicate, preamble):
        m = _EACH.search(text) or _AMOUNT.search(text)
        if m:
            value, _ = read_value(parse_amount, m.group("amount"))
            return value
    m = _EACH.search(note) if event == "allocated" else None
    return read_value(parse_amount, m.group("amount"))[0] if m else None


def _reason(predicate: str) -> str | None:
    """What follows 'เนื่องจาก', with OCR's 'เครื่องข่าย' written as the word it is (renderings then agree)."""
    m = _REASON.search(predicate)
    return _MISREAD_NETWORK.sub("เครือข่าย", m.group("reason").strip(" ,")) or None if m else None


def network_events(notes: Mapping[int, Iterable[tuple[int, str | None]]], networks: Sequence[int],
                   findings: list[Finding]) -> tuple[list[NetworkEvent], list[Vote]]:
    """Each report's narratives (report -> [(rendering, note)]) -> the decided events and every rendering's
    votes. A network some renderings say nothing of is decided by those that do; a tie on the event is no
    event (with an unsettled_disagreement finding), a tie between stated amounts or reasons is NULL (likewise)."""
    events: list[NetworkEvent] = []
    votes: list[Vote] = []
    for report_no in sorted(notes):
        heard: dict[int, list[tuple[int, Said]]] = {}
        for rendering, note in notes[report_no]:
            for no, said in read_narrative(note or "", networks).items():
                heard.setdefault(no, []).append((rendering, said))
                votes += [Vote(report_no, f"{EVENT_FIELD}:{no}", rendering, said.event),
                          Vote(report_no, f"{AMOUNT_FIELD}:{no}", rendering, said.amount),
                          Vote(report_no, f"{REASON_FIELD}:{no}", rendering, said.reason)]
        for no, told in sorted(heard.items()):
            event = _decided(report_no, f"{EVENT_FIELD}:{no}", [s.event for _, s in told], findings)
            if event is None:
                continue
            agreeing = [s for _, s in told if s.event == event]
            # a rendering whose narrative is cut says nothing of the amount or the reason: only those that state
            # one vote on it (two stated values with no majority are NULL, with the finding)
            amount = _decided(report_no, f"{AMOUNT_FIELD}:{no}", [s.amount for s in agreeing if s.amount is not None],
                              findings)
            reason = _decided(report_no, f"{REASON_FIELD}:{no}", [s.reason for s in agreeing if s.reason], findings)
            events.append(NetworkEvent(report_no, no, event, amount, reason, agreeing[0].sentence))  # type: ignore[arg-type]
    return events, votes


def _decided(report_no: int, name: str, values: list[object], findings: list[Finding]) -> object:
    value, settled = decide(values)
    if not settled:
        tally = ", ".join(sorted({"absent" if v is None else str(v) for v in values}))
        findings.append(Finding.of("unsettled_disagreement", f"report {report_no} {name}: renderings disagree with "
                                   f"no majority ({tally}); stored NULL"))
    return value


def decided_of(events: Iterable[NetworkEvent]) -> dict[tuple[int, str], object]:
    """(report, vote field) -> the decided value, for the audit of every vote."""
    out: dict[tuple[int, str], object] = {}
    for e in events:
        out[(e.report_no, f"{EVENT_FIELD}:{e.network_no}")] = e.event
        out[(e.report_no, f"{AMOUNT_FIELD}:{e.network_no}")] = e.amount_thb
        out[(e.report_no, f"{REASON_FIELD}:{e.network_no}")] = e.reason_th
    return out
