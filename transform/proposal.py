"""Layout 3, the project proposal: no progress reports, but name, unit, fiscal year, budget, period,
networks and the people who sign it. Thai numerals are the rule here."""

from __future__ import annotations

import re

from common.records import DumpParseError, Finding, ParsedDump, PersonMention, ProjectHeader
from common.text import normalize_lines
from transform.people import TitleBook, parse_person
from transform.text_mentions import district_mentions, network_numbers, school_mentions
from transform.values import PROJECT_CODE, parse_amount, parse_thai_month_year, read_or_find, unit_name

_NAME = re.compile(r"^\s*ชื่อโครงการ\s+(?P<v>\S.*?)\s*$", re.MULTILINE)
_UNIT = re.compile(r"^\s*หน่วยงานที่รับผิดชอบ\s+(?P<v>\S.*?)\s*$", re.MULTILINE)
_YEAR = re.compile(r"^\s*ปีงบประมาณ\s*(?:พ\.ศ\.)?\s*(?P<v>\d{4})[\s|'\".,_~-]*$", re.MULTILINE)  # a scan's specks after
_BUDGET = re.compile(r"(?:จำนวนเงิน|งบประมาณ(?:ทั้งสิ้น)?)\s*(?P<v>\d[\d,]*(?:\.\d+)?)(?:\.?-)?\s*บาท")
_PERIOD = re.compile(r"ตั้งแต่\s*(?P<start>(?:เดือน)?\S+\s*\d{4})\s*[-–ถึง]+\s*(?P<end>(?:เดือน)?\S+\s*\d{4})")
_SIGNATURE = re.compile(r"^\s*\((?P<name>[^()\n]{3,60})[)\]][\s.,'|_~-]*$")  # ']' for ')', specks after: a scan's
_CODE = re.compile(rf"\b({PROJECT_CODE})\b")


def parse_proposal(text: str, source: str, titles: TitleBook) -> ParsedDump:
    lines = normalize_lines(text)
    body = "\n".join(lines)
    name = _NAME.search(body)
    if not name:
        raise DumpParseError(source, "proposal without a 'ชื่อโครงการ' line")
    findings: list[Finding] = []
    unit = _UNIT.search(body)
    unit_th = unit_name(unit.group("v")) if unit else None
    year = _YEAR.search(body)
    budget = _BUDGET.search(body)
    period = _PERIOD.search(body)
    start = end = None
    if period:
        start = parse_thai_month_year(period.group("start"))
        end = parse_thai_month_year(period.group("end"), end_of_month=True)
    if budget is None:
        findings.append(Finding.of("budget_missing", "no budget amount found in the proposal"))
    code = _CODE.search(body)
    header = ProjectHeader(
        project_code=code.group(1) if code else None,
        fiscal_year=int(year.group("v")) if year else None,
        name_th=name.group("v"),
        budget_thb=read_or_find(parse_amount, budget.group("v"), "budget", findings) if budget else None,
        reported_spent_thb=None, start_date=start, end_date=end,
        unit_th=unit_th, agency_th=_agency(unit_th) if unit_th else None,
    )
    people = signatories(lines, titles)
    return ParsedDump(
        source_file=source, layout="proposal", renderings=1, header=header,
        district_mentions=tuple(district_mentions(ln for ln in lines if "เขต" in ln)), people=tuple(people), reports=(),
        networks=tuple(network_numbers(body)), schools=tuple(school_mentions(body)),
        findings=tuple(findings),
    )


def _agency(unit: str) -> str | None:
    """'ฝ่ายการศึกษา สำนักงานเขตบางกอกน้อย' -> 'สำนักงานเขตบางกอกน้อย': the unit line ends with its agency."""
    at = unit.find("สำนัก")
    return unit[at:].strip() if at >= 0 else None


def signatories(lines: list[str], titles: TitleBook) -> list[PersonMention]:
    """'(นายรินทร์รัช จินดี)' with the position line under it; the section head is the officer."""
    people: list[PersonMention] = []
    for i, line in enumerate(lines):
        m = _SIGNATURE.match(line)
        if not m:
            continue
        position = next((ln.strip() for ln in lines[i + 1: i + 3] if ln.strip()), None)
        role = "officer" if position and "หัวหน้าฝ่าย" in position else "signatory"
        person = parse_person(m.group("name"), role, 1, titles, position_th=position)
        if person and person.title_th:  # a bracketed phrase without a title is not a signature
            people.append(person)
    if people and not any(p.role == "officer" for p in people):
        first = people[0]
        people[0] = PersonMention(role="officer", raw=first.raw, title_th=first.title_th, name_th=first.name_th,
                                  phone=first.phone, rendering=first.rendering, position_th=first.position_th)
    return people
