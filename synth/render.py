"""Rendering a true project as the dumps we receive, with the phenomena measured on the real seeds:
2-4 renderings (markdown, one-line table, two-line table, HTML rows), page breaks cutting entries into
fragments, table row labels shifted by one, dropped lines, missing '%', garbled and glued statuses,
OCR confusions in names, schools and districts, Thai digits in proposals."""

from __future__ import annotations

import random
import re
from decimal import Decimal

from synth.world import TruePerson, TrueProject, TrueReport

PAGE_HEADER = "\n\n\n\n**\\*\\* แบบแสดงรายงานความก้าวหน้าและข้อมูลเกี่ยวกับโครงการ \\*\\***\n\n"
STATUS_TEXT = {"on_plan": "เป็นไปตามแผน", "on_plan_monitor": "เป็นไปตามแผนแต่ควรติดตาม", "off_plan": "ไม่เป็นไปตามแผน",
               "on_target": "เป็นไปตามเป้าหมาย", "off_target": "ไม่เป็นไปตามเป้าหมาย"}
GARBLED_MONITOR = ["เป็นไปตามแผนแต่ควรถัด", "เป็นไปตามแผนแต่ควรถติ", "เป็นไปตามแผนแต่ควรติดตา"]
CONFUSIONS = [("ท", "ฑ"), ("ิ", "ี"), ("ด", "ต"), ("ห", "พ"), ("ข", "ฃ"), ("ณ", "ฌ"), ("ร", "ธ"), ("ว", "ร"),
              ("ู", "ุ"), ("ภ", "ถ"), ("บ", "ป"), ("ศ", "ส")]
FILLER = ["กรุงเทพมหานครได้กำหนดนโยบายการพัฒนาคุณภาพทุกโรงเรียนให้มีคุณภาพสูงทัดเทียมกัน",
          "โดยใช้ระบบเครือข่ายทางการศึกษาเป็นกลยุทธ์ในการให้กลุ่มโรงเรียนช่วยเหลือเกื้อกูลในการพัฒนาคุณภาพการศึกษา",
          "เพื่อนำไปสู่การพัฒนาคุณภาพและมาตรฐานการศึกษา และเพื่อรองรับการประกันคุณภาพภายนอก",
          "การสร้างผู้นำทางวิชาการ การแลกเปลี่ยนเรียนรู้ การพัฒนาองค์ความรู้สู่การสร้างนวัตกรรมทางการบริหาร",
          "โรงเรียนสังกัดกรุงเทพมหานครต้องมีกระบวนการพัฒนาด้วยคุณภาพที่เข้มแข็ง มีคุณภาพสูง จึงทำให้คุณภาพยั่งยืน",
          "ผู้เข้าร่วมโครงการมีความรู้ความเข้าใจแนวทางพัฒนาคุณภาพในทิศทางเดียวกัน",
          "เครือข่ายโรงเรียนได้ร่วมกันจัดนิทรรศการแสดงผลงาน การคัดเลือกครูดีเด่น และการประกวดหรือแข่งขันความสามารถ",
          "ยกระดับคุณภาพของโรงเรียนให้สูงขึ้นอย่างต่อเนื่อง และเป็นที่ยอมรับของผู้เกี่ยวข้องโดยทั่วไป"]
# paragraphs that start like a school or a network and are neither (from the real dumps)
SENTENCES_LIKE_A_LISTING = [
    "โรงเรียนในสังกัดกรุงเทพมหานครต้องมีกระบวนการพัฒนาด้วยคุณภาพที่เข้มแข็ง มีคุณภาพสูง จึงจะทำให้คุณภาพการศึกษายั่งยืน",
    "โรงเรียนสังกัดกรุงเทพมหานครต้องมีการพัฒนาด้วยคุณภาพที่เข้มแข็ง มีคุณภาพสูง จึงทำให้คุณภาพยั่งยืน",
    "โรงเรียนทุกแห่งในเครือข่ายได้ร่วมกันจัดนิทรรศการแสดงผลงานและคัดเลือกครูดีเด่น",
    "เครือข่ายโรงเรียนได้ร่วมกันจัดนิทรรศการแสดงผลงาน การคัดเลือกครูดีเด่น และการประกวดหรือแข่งขันความสามารถ",
    "เครือข่ายทั้งหมดดำเนินการประชุมวางแผนกำหนดจัดประกวดคัดเลือกครูดีเด่น",
]
THAI_DIGITS = str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙")


def ocr(rng: random.Random, text: str, rate: float) -> str:
    """With probability `rate`, one OCR confusion (a swapped letter or a dropped tone mark)."""
    if rng.random() >= rate:
        return text
    options = [(a, b) for a, b in CONFUSIONS if a in text]
    if rng.random() < 0.3 and any(ch in text for ch in "่้๊๋"):
        mark = rng.choice([ch for ch in "่้๊๋" if ch in text])
        return text.replace(mark, "", 1)
    if not options:
        return text
    a, b = rng.choice(options)
    return text.replace(a, b, 1)


def money(value: Decimal) -> str:
    return f"{int(value):,}"


def be_date(report: TrueReport, rng: random.Random) -> str:
    d = report.date
    month = f"{d.month}" if rng.random() < 0.2 else f"{d.month:02d}"  # type: ignore[union-attr]
    return f"{d.day:02d}/{month}/{d.year + 543}"  # type: ignore[union-attr]


def person_line(rng: random.Random, p: TruePerson, rate: float, spelled: list[tuple[str, str]]) -> str:
    """A person as a form prints them; their name as spelled here goes to `spelled` (person id, name)."""
    title = {"นางสาว": rng.choice(["นางสาว", "น.ส."])}.get(p.title, p.title)
    phone = f" {rng.choice(['เบอร์โทร', 'โทร'])} {p.phone}" if p.phone else ""
    name = f"{ocr(rng, p.first, rate)} {ocr(rng, p.last, rate)}"
    spelled.append((p.person_id, name))
    return f"{title}{name}{phone}"


def header(rng: random.Random, pr: TrueProject, spent: Decimal, two_columns: bool,
           spelled: list[tuple[str, str]]) -> str:
    cells = [("ชื่อโครงการ/กิจกรรม", pr.name), ("รหัสโครงการ...", pr.code), ("ปีงบประมาณ พ.ศ.", str(pr.fiscal_year)),
             ("เริ่มต้นโครงการ", f"{pr.start.isoformat()} 00:00:00"), ("งบประมาณที่ได้รับ", f"{money(pr.budget)} บาท"),
             ("สิ้นสุดโครงการ", f"{pr.end.isoformat()} 00:00:00"), ("งบประมาณที่ใช้ไป", f"{money(spent)} บาท"),
             ("หน่วยงานที่รับผิดชอบ.", f"{pr.agency_name} / {pr.unit} / {pr.unit}"),
             ("ชื่อผู้รับผิดชอบ...", person_line(rng, pr.officer, 0.15, spelled)),
             ("ผู้ประสานงาน สยป", person_line(rng, pr.coordinator, 0.15, spelled))]
    lines = [f"{label} : {value}" for label, value in cells]
    if two_columns:
        return "\n".join("\t".join(lines[i:i + 2]) for i in range(0, len(lines), 2)) + "\n"
    return "\n\n".join(lines) + "\n"


# rates measured on the real dumps (synth/PHENOMENA.md)
LISTED_ON_NEXT_LINE = 0.167  # "เครือข่ายที่ 55" / blank line / "โรงเรียนวัดอ่างแก้ว ..." (dump 001)
LISTING_CUT = 0.1  # a page break right after the last "เครือข่ายที่ N": that rendering loses the school's name
# a paragraph that starts with โรงเรียน or เครือข่าย right after a listing: the trap that made sentences into
# schools (issue 12); 1.7 % of the real dumps' lines start so, here it follows half of the listings
SENTENCE_AFTER_LISTING = 0.5
SCHOOL_OCR_RATE = 0.15


def narrative(rng: random.Random, pr: TrueProject, size: int, seen_schools: list[tuple[str, str]]) -> str:
    parts = [f"#### 1.3 หลักการและเหตุผล\n\n{pr.agency_name} " + rng.choice(FILLER)]
    if pr.networks:
        listing, cut = _listing(rng, pr, seen_schools)
        parts.append(listing)
        if cut or rng.random() < SENTENCE_AFTER_LISTING:
            parts.append(rng.choice(SENTENCES_LIKE_A_LISTING))
    while sum(len(p) for p in parts) < size:
        parts.append(rng.choice(FILLER))
    return "\n\n".join(parts)


def _listing(rng: random.Random, pr: TrueProject, seen_schools: list[tuple[str, str]]) -> tuple[str, bool]:
    """'เครือข่ายโรงเรียน 3 เครือข่าย ได้แก่ ... ดังนี้ 1. เครือข่ายที่ 53 โรงเรียนวัดนิมมานรดี 2. ...', the lead
    school of each network, as dump 001 prints it; a school may wrap to the line after its network, and a
    page break may cut the listing after the last network's number (that rendering loses the name)."""
    items = []
    cut = False
    for i, school in enumerate(pr.leads, 1):
        spelled = ocr(rng, school.name, SCHOOL_OCR_RATE)
        gap = "\n\n" if rng.random() < LISTED_ON_NEXT_LINE else " "
        if i == len(pr.leads) and rng.random() < LISTING_CUT:
            items.append(f"{i}. เครือข่ายที่ {school.network_no}{PAGE_HEADER.rstrip()}")
            cut = True
            continue
        items.append(f"{i}. เครือข่ายที่ {school.network_no}{gap}โรงเรียน{spelled}")
        seen_schools.append(("โรงเรียน" + spelled, school.school_id))
    return (f"เครือข่ายโรงเรียน {len(pr.networks)} เครือข่าย ได้แก่ "
            + ", ".join(f"เครือข่ายที่ {n}" for n in pr.networks) + " ดังนี้ " + " ".join(items)), cut


def entry_parts(rng: random.Random, r: TrueReport, missing_pct: bool, note: str | None = None,
                ) -> tuple[str, str, str, str]:
    when = f":: {be_date(r, rng)} : " if r.date else ":: "
    pct = f"{r.progress:.2f}" + ("" if missing_pct else " %")
    plan = STATUS_TEXT[r.plan]
    if r.plan == "on_plan_monitor" and rng.random() < 0.3:
        plan = rng.choice(GARBLED_MONITOR)
    return (f"{when}{r.note if note is None else note}", f":: ความก้าวหน้าของงานฯ = {pct}",
            f": งบประมาณที่เบิกใช้ (ครั้งที่ {r.report_no}) = {money(r.cumulative)} บาท",
            f": {plan} : {STATUS_TEXT[r.target]}")


# what a rendering does to the narratives of network projects (dump 001: its fourth rendering cut two of them
# after their last network's number, and spelt เครือข่าย as เครื่องข่าย throughout)
NARRATIVE_CUT = 0.062  # per narrative that speaks of networks, in one rendering (measured: 2 of 32)
NETWORK_MISSPELT = 0.111  # per rendering (measured: 1 of 9)
_LAST_SUBJECT = re.compile(r"(?:และ)?เครือข่าย(?:โรงเรียน)?ที่ \d+ [^ ]")


def cut_narrative(rng: random.Random, note: str) -> str:
    """The narrative cut right after its last network's number, as a page break or a dropped cell cuts it:
    what it said of that network is gone (an allotment, said of all networks before they are listed, is never
    cut)."""
    if "จัดสรร" in note or rng.random() >= NARRATIVE_CUT:
        return note
    last = list(_LAST_SUBJECT.finditer(note))
    if len(last) < 2:
        return note
    return note[: last[-1].end() - 2]


def section2(rng: random.Random, reports: tuple[TrueReport, ...], style: str,
             seen_schools: list[tuple[str, str]] | None = None, first: bool = True) -> str:
    """One rendering of the report list; table styles may shift labels and drop a line, and a rendering after
    the first may cut a narrative or misspell its networks. The schools a narrative lists, as printed, go to
    seen_schools."""
    shift_from = rng.randint(2, len(reports)) if style != "markdown" and rng.random() < 0.35 else None
    drop = rng.randint(1, len(reports)) if style != "markdown" and rng.random() < 0.25 else None
    break_at = rng.randint(1, len(reports)) if rng.random() < 0.5 else None
    misspelt = not first and rng.random() < NETWORK_MISSPELT
    out = []
    for r in reports:
        if r.report_no == drop:
            continue
        if seen_schools is not None:
            seen_schools.extend(r.schools)
        label = r.report_no + (1 if shift_from and r.report_no >= shift_from else 0)
        note = r.note if first else cut_narrative(rng, r.note)
        if misspelt and not r.schools:
            note = note.replace("เครือข่าย", "เครื่องข่าย")
        date_part, pct, amount, status = entry_parts(rng, r, rng.random() < 0.15, note)
        if r.report_no == break_at:  # a page break cuts the entry into fragments
            out.append(f"รายงานครั้งที่{label} {date_part}" + PAGE_HEADER + pct + PAGE_HEADER + amount
                       + PAGE_HEADER + status)
        elif style == "markdown":
            out.append(f"รายงานครั้งที่{label} {date_part}\n\n{pct} {amount} {status}")
        elif style == "table1":
            out.append(f"รายงานครั้งที่{label}\t{date_part} {pct} {amount}\t{status.replace(' : ', chr(9) + ': ')}")
        elif style == "table2":
            out.append(f"รายงานครั้งที่{label}\t{date_part}\t\t\n\t{pct} {amount}\t{status.replace(' : ', chr(9) + ': ')}")
        else:
            out.append(f"รายงานครั้งที่ {label}\t<p>{date_part}</p> <p>{pct} {amount}</p>\t"
                       + status.replace(" : ", "\t: "))
    return "\n\n".join(out) if style == "markdown" else "\n".join(out)


def progress_form(rng: random.Random, pr: TrueProject, seen_schools: list[tuple[str, str]],
                  spelled: list[tuple[str, str]]) -> tuple[str, int, Decimal]:
    """The printed form, rendered 1-4 times; returns (text, renderings, printed spent). The schools and people
    it names, as spelled, go to seen_schools and spelled."""
    renderings = rng.choices([1, 2, 3, 4], [0.1, 0.2, 0.3, 0.4])[0]
    spent = pr.reports[-1].cumulative if rng.random() < 0.6 else sum((r.cumulative for r in pr.reports), Decimal(0))
    size = rng.randint(600, 4500)
    styles = ["markdown", "table1", "table2", "html"]
    parts = []
    for k in range(renderings):
        style = styles[0] if k == 0 else rng.choice(styles)
        parts.append("## \\*\\* แบบแสดงรายงานความก้าวหน้าและข้อมูลเกี่ยวกับโครงการ \\*\\*\n\n"
                     "### 1. ชื่อโครงการและหน่วยงานที่รับผิดชอบโครงการ\n\n#### 1.1 รหัสโครงการและชื่อโครงการ\n\n"
                     + header(rng, pr, spent, two_columns=style == "table1", spelled=spelled)
                     + "\n" + narrative(rng, pr, size, seen_schools)
                     + "\n\n### 2. รายงานความก้าวหน้าของโครงการและการใช้จ่ายงบประมาณ\n\n"
                     + section2(rng, pr.reports, style, seen_schools, first=k == 0) + "\n")
    return "\n\n".join(parts), renderings, spent


def proposal(rng: random.Random, pr: TrueProject, district_name: str | None, spelled: list[tuple[str, str]],
             ocr_rate: float = 0.5, filler: tuple[int, int] = (25, 80)) -> tuple[str, list[str]]:
    """The proposal's text and its three spellings of the district (OCR misspells them at ocr_rate; a
    department's proposal names its department instead); the officer who signs it, as spelled, goes to
    spelled. ocr_rate 0: the proposal as printed (synth/scans.py); filler: how many sentences of rationale."""
    def th(text: str) -> str:
        return text.translate(THAI_DIGITS)

    if district_name is None:
        agency = [pr.agency_name] * 3
        spellings: list[str] = []
        unit, head = pr.unit, f"ผู้อำนวยการ{pr.unit}"
    else:
        spellings = [ocr(rng, district_name, ocr_rate) for _ in range(3)]
        agency = [f"สำนักงานเขต{s}" for s in spellings]
        unit, head = "ฝ่ายการศึกษา", "หัวหน้าฝ่ายการศึกษา"
    months = ["ตุลาคม", "พฤศจิกายน", "ธันวาคม", "มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน", "พฤษภาคม", "มิถุนายน",
              "กรกฎาคม", "สิงหาคม", "กันยายน"]
    end_month = months[(pr.end.month - 10) % 12]
    nets = "\n".join(f"- ๓.๑.{th(str(i))} เครือข่ายที่ {th(str(n))} มีการพัฒนาอย่างเป็นระบบ"
                     for i, n in enumerate(pr.networks, 1))
    officer = pr.officer
    signed = f"{ocr(rng, officer.first, ocr_rate / 5)} {officer.last}"
    spelled.append((officer.person_id, signed))
    return (f"ชื่อโครงการ                      {pr.name}  \n\n"
            f"หน่วยงานที่รับผิดชอบ       {unit} {agency[0]}  \n\n"
            f"ปีงบประมาณ                      {th(str(pr.fiscal_year))}\n\n## ๑. หลักการและเหตุผล\n\n"
            f"{agency[1]} " + " ".join(rng.choice(FILLER) for _ in range(rng.randint(*filler)))
            + f"\n\n## ๓. เป้าหมาย\n\n{nets}\n\n๖. ระยะเวลาดำเนินการ\n\nระยะเวลาดำเนินการ ตั้งแต่เดือนตุลาคม "
            f"{th(str(pr.start.year + 543))} - เดือน{end_month} {th(str(pr.end.year + 543))}\n\n๗. งบประมาณ\n\n"
            f"เป็นค่าใช้จ่ายในการพัฒนาคุณภาพ เป็นจำนวนเงิน {th(money(pr.budget))}.- บาท\n\nลงชื่อ.....  \n\n"
            f"({officer.title}{signed})  \n\n{head} {agency[2]}\n"), spellings
