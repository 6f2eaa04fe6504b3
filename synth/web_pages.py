"""Pages of BMA's project-tracking system, as scraped whole (dump 002) or as public web crawls keep them: the
first ~1,000 characters, some cut before their title lines. Every shape issue 20 lists is drawn: the two line
shapes, district offices and departments (with or without the year), the split sara am in the agency line,
the headline printed twice, the contact line (a unit, or one or two people with phones in every printed
shape), the quarter evaluation in its five shapes, names without โครงการ or with a year in brackets, budget
codes and other districts in the body. Rates: synth/PHENOMENA.md."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import Decimal

from synth.render import FILLER, be_date, ocr
from synth.world import TruePerson, TrueProject, World

CRAWL_RATE = 0.5  # pages that reach us as a crawl's first ~1,000 characters (the others whole, like dump 002)
CRAWL_CUT_BEFORE_TITLE = 25 / 69  # of the 69 crawled pages of issue 20, 25 start at or near the headline
SINGLE_NEWLINES = 0.5  # lines separated by single newlines instead of blank lines (both shapes seen)
SPLIT_SARA_AM = 0.25  # 'สำนัก' of the agency line written with nikhahit + sara aa ("on some pages")
DEPARTMENT_WITHOUT_YEAR = 1 / 3  # a department's agency line printed without '(<BE year>)'
UNIT_LINE = 6 / 44  # the contact line names a unit (38 of the 44 full pages print a person)
CO_OFFICER = 0.15  # two people joined by 'และ'
NO_TITLE, SHORT_TITLE, KHUN = 0.25, 0.3, 0.1  # the person's title left out, 'น.ส.' for นางสาว, 'คุณ'
FIRST_NAME_ONLY = 0.1  # (only a person printed with a phone)
POSITION_BETWEEN = 0.15  # a position or a unit's abbreviation between the name and the phone
DOUBLED_VOWEL = 0.05
OTHER_DISTRICT_IN_BODY = 0.3
EVALUATION_ABSENT = 0.1
POSITIONS = ("หน.ฝ่ายการศึกษา", "ผอ.สศ.", "นักวิชาการศึกษา", "จนท.", "หัวหน้ากลุ่มงาน")
DISTRICT_UNITS = ("ฝ่ายการศึกษา", "ฝ่ายพัฒนาชุมชนและสวัสดิการสังคม")
PHONE_SHAPES = ("labelled", "labelled_dot", "bracketed", "bracketed_labelled", "bare", "glued", "slash",
                "range", "second")


@dataclass
class WebPage:
    """A rendered page and what of it survives a crawl: its truth."""

    text: str
    quarantined: str | None = None  # why the pipeline must quarantine it
    people: list[tuple[str, TruePerson, bool]] = field(default_factory=list)  # (role, person, phone printed)
    spelled: list[tuple[str, str]] = field(default_factory=list)  # (person id, name as printed)
    unit: str | None = None
    headline: Decimal | None = None
    as_of: object = None
    quarter: int | None = None
    score: Decimal | None = None
    fiscal_year: int | None = None
    agency_printed: str | None = None
    report_survives: bool = True
    networks_survive: bool = True
    steps_complete: int = 5


def web_page(rng: random.Random, pr: TrueProject, world: World) -> WebPage:
    r = pr.reports[-1]
    page = WebPage("")
    head = _top(rng, pr, world, page)
    body = " ".join(rng.choice(FILLER) for _ in range(rng.randint(25, 90)))
    if rng.random() < OTHER_DISTRICT_IN_BODY:  # the body names another district than the agency line
        body = f"สำนักงานเขต{rng.choice(sorted(world.districts.values()))} {body}"
    nets = f"จำนวน {len(pr.networks)} เครือข่าย ({','.join(map(str, pr.networks))})" if pr.networks else ""
    when = (f" ({r.date.isoformat()})", f"{be_date(r, rng)} : {r.note}") if r.date else ("", f"{r.note}")
    steps = [f"ขั้นตอน {i}\n:{rng.choice(FILLER)[:40]}\n:20%\nเริ่มต้น :{pr.start.isoformat()} 00:00:00\n"
             f"สิ้นสุด :{pr.end.isoformat()} 00:00:00" for i in range(1, 6)]
    sep = "\n" if rng.random() < SINGLE_NEWLINES else "\n\n"
    goals = f"3.1 ด้านปริมาณ - เครือข่ายโรงเรียนในสังกัด{pr.agency_name} {nets}"
    results = sep.join([f"({r.report_no}) ความคืบหน้าโครงการฯ ร้อยละ {r.progress:.2f}{when[0]}", f"{r.progress:.2f}",
                        when[1]])
    # (text, kept whole or not at all by a crawl): a crawl never cuts the lines a value is read from in half
    parts = [*((line, True) for line in head), ("หลักการและเหตุผล", True), (body, False),
             (f"{pr.agency_code[:4]}0600/{pr.agency_code[:4]}0600", True), ("เป้าหมายของโครงการ", True),
             (goals, True), ("ผลการดำเนินงาน", True), (results, True), ("** ปัญหาของโครงการ :ไม่มี", True),
             ("------------------&&&--------------------", True), ("แผนการดำเนินงานฯ", True),
             *((step, True) for step in steps)]
    text = sep.join(t for t, _ in parts) + "\n"
    page.as_of = r.date
    if rng.random() >= CRAWL_RATE:
        page.text = text
        return page
    starts, at = [], 0
    for t, _ in parts:
        starts.append(at)
        at += len(t) + len(sep)
    headline_at = next(i for i, (t, _) in enumerate(parts) if t.startswith("ความคืบหน้าโครงการ ร้อยละ"))
    cut_before_title = rng.random() < CRAWL_CUT_BEFORE_TITLE
    begin = starts[headline_at] if cut_before_title else 0
    end = begin + rng.randint(900, 1100)
    for (t, whole), at in zip(parts, starts, strict=True):
        if whole and at < end < at + len(t) + 1:
            end = at  # not in the middle of a line that carries a value
    page.text = text[begin:end]
    if cut_before_title:
        page.quarantined = "web progress page cut before its title lines"
    survives = {t for (t, _), at in zip(parts, starts, strict=True) if at + len(t) <= end}
    page.report_survives = results in survives
    page.networks_survive = goals in survives
    page.steps_complete = sum(step in survives for step in steps)
    if not page.report_survives:
        page.as_of = None
    return page


def _top(rng: random.Random, pr: TrueProject, world: World, page: WebPage) -> list[str]:
    """The lines above the body: what a crawl always keeps (when it starts at the top)."""
    r = pr.reports[-1]
    agency = pr.agency_name
    if rng.random() < SPLIT_SARA_AM:
        agency = agency.replace("สำนัก", "ส\u0e4d\u0e32นัก", 1)
    page.agency_printed = pr.agency_name
    page.fiscal_year = pr.fiscal_year
    year = f" : ({pr.fiscal_year})"
    if pr.department and rng.random() < DEPARTMENT_WITHOUT_YEAR:
        year, page.fiscal_year = "", None
    shown = f"{int(r.progress)}" if rng.random() < 0.5 else f"{r.progress:.2f}"
    page.headline = r.progress
    lines = ["ความคืบหน้าโครงการ/กิจกรรม", "Back Home", "FusionCharts will render here", f"{_name(rng, pr)} : {pr.code}",
             f"{agency}{year}", shown, f"ความคืบหน้าโครงการ ร้อยละ {shown}", _contact(rng, pr, world, page),
             "ดูโครงการแผนปีฯ : พิมพ์ข้อมูล"]
    if rng.random() >= EVALUATION_ABSENT:
        lines.append(_evaluation(rng, page))
    return lines


def _name(rng: random.Random, pr: TrueProject) -> str:
    """Names often lack โครงการ, carry brackets, or end in a year in brackets that is not the fiscal year's."""
    name = pr.name
    roll = rng.random()
    if roll < 0.4:
        name = name.removeprefix("โครงการ")
    elif roll < 0.55:
        name = f"{name} (ศูนย์วิชาการเขต)"
    elif roll < 0.7:
        name = f"{name} ({pr.fiscal_year - rng.randint(1, 3)})"
    return name


def _evaluation(rng: random.Random, page: WebPage) -> str:
    quarter = rng.randint(1, 4)
    score = Decimal(rng.choice([0, 50, 75, 100]))
    shape = rng.randrange(5)
    page.quarter, page.score = quarter, score
    text = "*** สยป. ประเมินโครงการ : ไตรมาสที่ "
    if shape == 0:
        return f"{text}{quarter} {int(score)}"
    if shape == 1:
        return f"{text}{quarter} {score:.4f}"
    if shape in (2, 3):
        return f"{text}{quarter} : {score:.4f}"
    page.score = None
    return f"{text}{quarter}"


def _contact(rng: random.Random, pr: TrueProject, world: World, page: WebPage) -> str:
    if rng.random() < UNIT_LINE:
        unit = pr.unit if pr.department else rng.choice(DISTRICT_UNITS)
        if rng.random() < 0.3:
            unit = f"{unit} (คุณ{pr.officer.first})"  # a unit and a given name in brackets: still a unit
        page.unit = unit
        return unit
    colleagues = [p for p in (world.departments[pr.agency_code].officers if pr.department
                              else world.officers[pr.district_id or ""]) if p.person_id != pr.officer.person_id]
    if colleagues and rng.random() < CO_OFFICER:
        other = rng.choice(colleagues)
        first = _person(rng, pr.officer, page, "officer", phone=False)
        return f"{first} และ{_person(rng, other, page, 'co_officer', phone=True)}"
    return _person(rng, pr.officer, page, "officer", phone=True)


def _person(rng: random.Random, p: TruePerson, page: WebPage, role: str, phone: bool) -> str:
    printed = phone and p.phone is not None
    roll = rng.random()
    title = "" if roll < NO_TITLE else "คุณ" if roll < NO_TITLE + KHUN else \
        ("น.ส." if p.title == "นางสาว" and rng.random() < SHORT_TITLE else p.title)
    first = ocr(rng, p.first, 0.05)
    if rng.random() < DOUBLED_VOWEL:
        first = _double_a_vowel(first)
    name = f"{first} {ocr(rng, p.last, 0.05)}"
    if printed and rng.random() < FIRST_NAME_ONLY:
        name = first
    page.people.append((role, p, printed))
    page.spelled.append((p.person_id, name))
    if rng.random() < POSITION_BETWEEN:
        name = f"{name} {rng.choice(POSITIONS)}"
    return f"{title}{name}{_phone(rng, p.phone) if printed else ''}"


def _double_a_vowel(name: str) -> str:
    for i, ch in enumerate(name):
        if ch in "ิีึืุูั":
            return name[: i + 1] + ch + name[i + 1:]
    return name


def _phone(rng: random.Random, phone: str | None) -> str:
    """A phone in one of the printed shapes: 'โทร 6628', 'โทร. 5378', '(3027)', '(โทร.02 6289067)', ' 6628', glued
    to the surname, '/ โทร 6628', a range ('6822-3', '3347-49'), an extension ('ต่อ 15'), a second number."""
    assert phone is not None
    shown = f"{phone[:2]} {phone[2:]}" if len(phone) > 4 else phone
    shape = rng.choice(PHONE_SHAPES)
    if shape == "labelled":
        return f" โทร {shown}"
    if shape == "labelled_dot":
        return f" โทร. {shown}"
    if shape == "bracketed":
        return f" ({shown})"
    if shape == "bracketed_labelled":
        return f" (โทร.{shown})"
    if shape == "bare":
        return f" {shown}"
    if shape == "glued":
        return shown
    if shape == "slash":
        return f" / โทร {shown}"
    if shape == "range":
        if len(phone) > 4:
            return f" โทร {shown} ต่อ {rng.randint(10, 30)}"
        return f" โทร {phone}-{rng.randint(1, 9)}" if rng.random() < 0.5 else f" โทร {phone}-{rng.randint(10, 99)}"
    return f" โทร {shown} หรือโทร. {rng.randint(2000, 2999)}"
