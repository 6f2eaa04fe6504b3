"""The true story of a project's reports: progress, statuses, running totals, and, for a district's network
project, what happens to each network (allotted, activity held, in progress, disbursed, not disbursed and
why), told report by report in the narrative the way dump 001 tells it. The running total is what the
networks said to have disbursed were allotted, so the warehouse's check of the two can only fire where the
story makes them disagree. Rates: synth/PHENOMENA.md."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from synth.world import NOTES, TrueEvent, TrueReport, TrueSchool

# of district projects with networks: the narrative tells network by network (dump 001) or of the project only
# (dump 000: 'ขออนุมัติเบิกจ่ายเงินไปแล้ว 90,000 บาท')
NETWORK_STORY_RATE = 0.8
NOT_DISBURSED_RATE = 0.1  # a network that does not disburse, with its reason (dump 001: network 53)
SILENT_RATE = 0.05  # a network the narrative never says disbursed or not
LISTED_ALLOTMENT_RATE = 0.5  # the allotment lists each network with its lead school (dump 001)
SAID_AGAIN_RATE = 0.5  # a network that disbursed is said so again in later reports (dump 001: reports 8-10)
IN_PROGRESS_SAID_RATE = 0.5
ALLOTMENT_DISAGREES_RATE = 0.03  # the last running total is not what the disbursed networks were allotted
OVERSPEND_RATE = 0.02  # a project without a network story whose last running total is above its budget
REASONS = ("การแพร่ระบาดของโรคติดเชื้อไวรัสโคโรนา 2019 (COVID-19)", "สถานการณ์น้ำท่วมในพื้นที่",
           "โรงเรียนในเครือข่ายปิดปรับปรุงอาคารเรียน", "ไม่สามารถจัดกิจกรรมได้ทันในปีงบประมาณ")
IN_PROGRESS = ("อยู่ระหว่างการดำเนินการจัดกิจกรรม", "อยู่ระหว่างเตรียมการจัดนิทรรศการ",
               "ดำเนินประชุมวางแผนกำหนดจัดประกวดคัดเลือกครูดีเด่น")
DONE = ("ดำเนินการจัดนิทรรศการ คัดเลือก ครูดีเด่น และประกวด/แข่งขันความสามารถของครูและนักเรียน เรียบร้อยแล้ว",
        "จัดนิทรรศการแสดงผลงานเรียบร้อยแล้ว")


@dataclass(frozen=True)
class Story:
    reports: tuple[TrueReport, ...]
    events: tuple[TrueEvent, ...]
    allotments: tuple[Decimal, ...]
    amounts_said: bool  # the narrative states each network's allotment
    overspent: bool
    disagrees: bool  # the last running total is not the disbursed networks' allotments


def tell(rng: random.Random, start: date, budget: Decimal, networks: tuple[int, ...],
         leads: tuple[TrueSchool, ...], spell: object, network_story: bool) -> Story:
    """The reports of a project; spell(name) -> an OCR spelling of a school's name (for the allotment listing)."""
    count = rng.randint(3, 12)
    if not (network_story and networks and rng.random() < NETWORK_STORY_RATE):
        return _plain(rng, start, budget, count)
    n = len(networks)
    share = budget // n
    allotments = tuple(share if i < n - 1 else budget - share * (n - 1) for i in range(n))
    amounts_said = all(a == allotments[0] for a in allotments)
    allotted_at = 2 if count >= 4 else 1
    fates = [_fate(rng, allotted_at, count) for _ in networks]
    notes, events, schools = _narratives(rng, count, allotted_at, networks, leads, allotments, amounts_said,
                                         fates, spell)
    paid = list(allotments)
    payers = [i for i, (kind, _, _) in enumerate(fates) if kind == "disbursed"]
    disagrees = bool(payers) and rng.random() < ALLOTMENT_DISAGREES_RATE
    if disagrees:  # a network was paid less than its allotment: the running totals say less than the narrative
        paid[rng.choice(payers)] -= Decimal(5000)
    totals = [sum((a for a, (kind, d, _) in zip(paid, fates, strict=True) if kind == "disbursed" and d <= no),
                  Decimal(0)) for no in range(1, count + 1)]
    reports = _series(rng, start, count, totals, notes, schools)
    return Story(reports, tuple(events), allotments, amounts_said, False, disagrees)


def _fate(rng: random.Random, allotted_at: int, count: int) -> tuple[str, int, int | None]:
    """(disbursed | not_disbursed | silent, the report it is said at, the report its activity is held at)."""
    roll = rng.random()
    if roll < NOT_DISBURSED_RATE:
        return "not_disbursed", count, None
    if roll < NOT_DISBURSED_RATE + SILENT_RATE:
        return "silent", count, None
    paid = rng.randint(min(allotted_at + 2, count), count) if count > allotted_at else count
    held = rng.randint(allotted_at + 1, paid - 1) if paid - 1 >= allotted_at + 1 else None
    return "disbursed", paid, held


def _narratives(rng: random.Random, count: int, allotted_at: int, networks: tuple[int, ...],
                leads: tuple[TrueSchool, ...], allotments: tuple[Decimal, ...], amounts_said: bool,
                fates: list[tuple[str, int, int | None]], spell: object,
                ) -> tuple[dict[int, str], list[TrueEvent], dict[int, tuple[tuple[str, str], ...]]]:
    notes: dict[int, str] = {}
    events: list[TrueEvent] = []
    schools: dict[int, tuple[tuple[str, str], ...]] = {}
    notes[allotted_at], listed = _allotment(rng, networks, leads, allotments, amounts_said, spell)
    schools[allotted_at] = listed
    events += [TrueEvent(allotted_at, no, "allocated", a if amounts_said else None)
               for no, a in zip(networks, allotments, strict=True)]
    for no in range(allotted_at + 1, count + 1):
        said: dict[str, list[int]] = {}
        reasons: dict[int, str] = {}
        for net, (kind, at, held) in zip(networks, fates, strict=True):
            event = _said_at(rng, no, kind, at, held)
            if event == "not_disbursed":
                reasons[net] = rng.choice(REASONS)
            if event:
                said.setdefault(event, []).append(net)
        if not said:
            continue
        clauses = []
        for event, nets in sorted(said.items(), key=lambda kv: ("disbursed", "activity_done", "in_progress",
                                                                "not_disbursed").index(kv[0])):
            clauses.append(_clause(rng, event, nets, len(networks), reasons))
            events += [TrueEvent(no, net, event, None, reasons.get(net)) for net in nets]
        notes[no] = " และ".join(clauses)
    return notes, events, schools


def _said_at(rng: random.Random, no: int, kind: str, at: int, held: int | None) -> str | None:
    if kind == "disbursed" and no == at:
        return "disbursed"
    if kind == "disbursed" and no > at:
        return "disbursed" if rng.random() < SAID_AGAIN_RATE else None
    if held == no:
        return "activity_done"
    if kind == "not_disbursed" and no == at:
        return "not_disbursed"
    if (held is None or no < held) and no < at and rng.random() < IN_PROGRESS_SAID_RATE:
        return "in_progress"
    return None


def _subject(rng: random.Random, nets: list[int], total: int) -> str:
    if len(nets) == total >= 2 and rng.random() < 0.5:
        return f"เครือข่ายทั้ง {total} เครือข่าย"
    word = rng.choice(["เครือข่ายที่", "เครือข่ายโรงเรียนที่"])
    names = [f"{word} {n}" for n in nets]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " และ" + names[-1]


def _clause(rng: random.Random, event: str, nets: list[int], total: int, reasons: dict[int, str]) -> str:
    subject = _subject(rng, nets, total)
    if event == "disbursed":
        return f"{subject} เบิกจ่ายแล้ว" + (f"จำนวน {len(nets)} เครือข่าย" if len(nets) > 1 else "")
    if event == "activity_done":
        return f"{subject} {rng.choice(DONE)}"
    if event == "in_progress":
        return f"{subject} {rng.choice(IN_PROGRESS)}"
    # not disbursed: one clause per reason (networks with different reasons are told apart)
    by_reason: dict[str, list[int]] = {}
    for n in nets:
        by_reason.setdefault(reasons[n], []).append(n)
    return " และ".join(f"{_subject(rng, group, total) if len(by_reason) > 1 else subject} ไม่ได้ดำเนินการเบิกจ่าย "
                      f"เนื่องจาก{reason} จึงไม่ได้ดำเนินการจัดนิทรรศการ" for reason, group in by_reason.items())


def _allotment(rng: random.Random, networks: tuple[int, ...], leads: tuple[TrueSchool, ...],
               allotments: tuple[Decimal, ...], amounts_said: bool, spell: object,
               ) -> tuple[str, tuple[tuple[str, str], ...]]:
    """'โครงการได้รับอนุมัติแล้ว และดำเนินการจัดสรรงบประมาณให้ผู้ประสานงานเครือข่ายโรงเรียนทั้ง 3 เครือข่าย
    เครือข่ายละ 90,000.- บาท ดังนี้ 1. เครือข่ายที่ 53 โรงเรียนวัดนิมมานรดี ...' (with the lead schools it lists)."""
    amount = f" เครือข่ายละ {int(allotments[0]):,}.- บาท" if amounts_said else "แล้ว"
    if len(networks) == 1:
        money = f" จำนวน {int(allotments[0]):,} บาท" if amounts_said else ""
        return f"โครงการได้รับอนุมัติแล้ว และดำเนินการจัดสรรงบประมาณให้เครือข่ายที่ {networks[0]}{money}", ()
    text = f"โครงการได้รับอนุมัติแล้ว และดำเนินการจัดสรรงบประมาณให้ผู้ประสานงานเครือข่ายโรงเรียนทั้ง {len(networks)} เครือข่าย{amount}"
    if rng.random() >= LISTED_ALLOTMENT_RATE:
        return text, ()
    listed = [(f"โรงเรียน{spell(s.name)}", s.school_id) for s in leads]  # type: ignore[operator]
    items = " ".join(f"{i}. เครือข่ายที่ {n} {raw}" for i, (n, (raw, _)) in enumerate(zip(networks, listed,
                                                                                          strict=True), 1))
    return f"{text} ดังนี้ {items}", tuple(listed)


def _series(rng: random.Random, start: date, count: int, totals: list[Decimal], notes: dict[int, str],
            schools: dict[int, tuple[tuple[str, str], ...]]) -> tuple[TrueReport, ...]:
    progress = Decimal(0)
    out = []
    for no in range(1, count + 1):
        progress = min(Decimal(100), progress + Decimal(rng.choice([5, 5, 10, 10, 15, 20, 25])))
        if no == count:
            progress = Decimal(100) if rng.random() < 0.7 else progress
        day = start + timedelta(days=30 * (no - 1) + rng.randint(18, 29))
        plan = rng.choices(["on_plan", "on_plan_monitor", "off_plan"], [0.8, 0.12, 0.08])[0]
        target = "off_target" if plan == "off_plan" and rng.random() < 0.8 else "on_target"
        note = notes.get(no) or (NOTES[0] if no == 1 else rng.choice(NOTES))
        out.append(TrueReport(no, None if rng.random() < 0.03 else day, progress.quantize(Decimal("0.01")),
                              totals[no - 1], plan, target, note, schools.get(no, ())))
    return tuple(out)


def _plain(rng: random.Random, start: date, budget: Decimal, count: int) -> Story:
    """A project whose narrative speaks of the project only: money paid at one to three reports."""
    pay_at = sorted(rng.sample(range(1, count + 1), k=min(count, rng.randint(1, 3))))
    overspent = rng.random() < OVERSPEND_RATE
    totals, cumulative = [], Decimal(0)
    for no in range(1, count + 1):
        if no in pay_at:
            cumulative = min(budget, cumulative + (budget / len(pay_at)).quantize(Decimal(1)))
        totals.append(cumulative)
    if overspent:  # a real overspend: the last running total above the budget received
        totals[-1] = budget + Decimal(rng.randint(1, 20) * 1000)
    return Story(_series(rng, start, count, totals, {}, {}), (), (), False, overspent, False)
