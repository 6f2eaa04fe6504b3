"""Layout 2, the page of BMA's project-tracking system (monitor.bangkok.go.th, dp*.bangkok.go.th), as scraped or
as a crawl keeps it (often only its first ~1,000 characters, with or without blank lines between lines).

Its top, line by line: the title '<name> : AAAAAAAA-NNNN' (any agency's code), the agency line
('สำนักงานเขต<district> : (<BE year>)', 'สำนัก<department> : (<BE year>)' or the department alone), the headline
progress printed twice (a lone number, then 'ความคืบหน้าโครงการ ร้อยละ N'), the contact line (the responsible unit,
or one or two people with phones), the evaluation coordinator's quarter score ('*** สยป. ประเมินโครงการ :
ไตรมาสที่ 2 100'). A full page goes on with the dated progress figure ('(1) ความคืบหน้าโครงการฯ ร้อยละ 20.00
(2022-12-30)', its BE date repeated before the narrative), a step plan and a KPI block.
"""

from __future__ import annotations

import re
from decimal import Decimal

from common.records import DumpParseError, Finding, Headline, ParsedDump, PlanStep, ProjectHeader, Vote
from common.text import normalize_thai
from transform.consensus import consensus_across_renderings, decide
from transform.network_events import network_events
from transform.people import ContactLine, TitleBook, read_contact_line
from transform.status import classify_status
from transform.text_mentions import district_mentions, network_numbers, school_mentions
from transform.values import PROJECT_CODE, parse_be_date, parse_iso_datetime, parse_percent, read_or_find

HEADLINE = re.compile(r"^ความคืบหน้าโครงการ\s*ร้อยละ\s*(?P<pct>\d+(?:\.\d+)?)\s*%?\s*$")
_TITLE = re.compile(rf"^(?P<name>[^:]*[^\s:])\s*:\s*(?P<code>{PROJECT_CODE})$")
_NOT_A_TITLE = ("(ทดสอบ)", "(คลิก)", "รายละเอียด")  # the plan's links repeat the code further down
_AGENCY = re.compile(r"^(?P<agency>[^:(]*[^\s:(])\s*(?::\s*\(\s*(?P<year>\d{4})\s*\))?$")
_LONE_NUMBER = re.compile(r"^(?P<pct>\d+(?:\.\d+)?)$")
_EVALUATION = re.compile(r"ประเมินโครงการ\s*:?\s*ไตรมาสที่\s*(?P<quarter>\d+)\s*(?::\s*)?(?P<score>\d+(?:\.\d+)?)?")
# what may follow the headline instead of a contact line
_NO_CONTACT = re.compile(r"^(?:\*|ดูโครงการ|หลักการ|\(\d|\d|ผลการดำเนินงาน|วัตถุประสงค์)")
_PROGRESS = re.compile(
    r"\((?P<no>\d{1,3})\)\s*ความคืบหน้าโครงการ\S*\s*ร้อยละ\s*(?P<pct>\d+(?:\.\d+)?)\s*(?:\((?P<iso>[\d-]+)\))?"
)
_NARRATIVE = re.compile(r"^(?P<date>\d{1,2}/\d{1,2}/\d{4})\s*:\s*(?P<note>.+)$", re.MULTILINE)
_STEP = re.compile(
    r"ขั้นตอน\s*(?P<no>\d{1,3})\s*\n\s*:(?P<desc>[^\n]*)\n\s*:(?P<pct>[\d.]+)\s*%?\s*\n"
    r"\s*เริ่มต้น\s*:(?P<start>[^\n]*)\n\s*สิ้นสุด\s*:(?P<end>[^\n]*)"
)
_STATUS_LINE = re.compile(r"^\s*:?\s*((?:ไม่\s*)?เป็นไปตาม\S*)\s*$", re.MULTILINE)
DISTRICT_OFFICE_PREFIX = "สำนักงานเขต"


def is_web_progress(text: str) -> bool:
    """A page of the tracking system, whole or as a crawl cut it (its headline is near the top)."""
    if "ความคืบหน้าโครงการ" not in text:
        return False
    return ("FusionCharts" in text or "แผนการดำเนินงาน" in text or "ประเมินโครงการ" in text
            or any(HEADLINE.match(" ".join(ln.split())) for ln in text.splitlines() if "ร้อยละ" in ln))


def parse_web_progress(text: str, source: str, titles: TitleBook) -> ParsedDump:
    # the document's character fixes once (split sara am included), then each line's spaces collapsed
    text = "\n".join(" ".join(line.split()) for line in normalize_thai(text, keep_lines=True).split("\n"))
    lines = [ln for ln in text.split("\n") if ln]
    title_at = next((i for i, ln in enumerate(lines) if not ln.startswith(_NOT_A_TITLE) and _TITLE.match(ln)), None)
    if title_at is None:
        if any(HEADLINE.match(ln) for ln in lines):
            raise DumpParseError(source, "web progress page cut before its title lines: it has no project name and "
                                         "code ('<name> : AAAAAAAA-NNNN'), agency or fiscal year (the text starts "
                                         "at or near its headline 'ความคืบหน้าโครงการ ร้อยละ ...')")
        raise DumpParseError(source, "web progress page without a '<name> : AAAAAAAA-NNNN' title line")
    title = _TITLE.match(lines[title_at])
    agency, year = _agency(lines, title_at)
    findings: list[Finding] = []
    votes = _progress_votes(text, findings)
    reports, report_findings = consensus_across_renderings(votes, source, whole_series=False)
    findings.extend(report_findings)
    top = _Top.read(lines, title_at, titles, findings)
    steps = _steps(text, findings)  # before the findings are frozen: the plan's own findings are among them
    networks = tuple(network_numbers(text))
    events, event_votes = network_events({r.report_no: [(1, r.note_th)] for r in reports if r.note_th}, networks,
                                         findings)
    header = ProjectHeader(
        project_code=title.group("code"), fiscal_year=year, name_th=normalize_thai(title.group("name")),
        budget_thb=None, reported_spent_thb=None, start_date=None, end_date=None,
        unit_th=" / ".join(x for x in (agency, top.contact.unit_th) if x) or None, agency_th=agency)
    headline = Headline(top.progress, _as_of(top.progress, reports), top.quarter, top.score)
    office = agency is not None and agency.startswith(DISTRICT_OFFICE_PREFIX)
    return ParsedDump(
        source_file=source, layout="web_progress", renderings=1, header=header,
        district_mentions=tuple(district_mentions([agency] if office else [])),
        people=top.contact.people, reports=tuple(reports), networks=networks,
        schools=tuple(school_mentions(text)), votes=tuple(votes + event_votes), findings=tuple(findings),
        steps=tuple(steps), headline=headline, network_events=tuple(events),
    )


def _agency(lines: list[str], title_at: int) -> tuple[str | None, int | None]:
    """The line after the title: the agency as printed and the fiscal year in brackets (absent on some pages)."""
    if title_at + 1 >= len(lines):
        return None, None
    line = lines[title_at + 1]
    m = _AGENCY.match(line)
    if m is None or HEADLINE.match(line) or _LONE_NUMBER.match(line):
        return None, None
    return normalize_thai(m.group("agency")), int(m.group("year")) if m.group("year") else None


class _Top:
    """The headline progress (the lone number and the headline, two votes), the contact line under it, and the
    quarter evaluation."""

    def __init__(self, progress: Decimal | None, contact: ContactLine, quarter: int | None, score: Decimal | None):
        self.progress, self.contact, self.quarter, self.score = progress, contact, quarter, score

    @classmethod
    def read(cls, lines: list[str], title_at: int, titles: TitleBook, findings: list[Finding]) -> _Top:
        at = next((i for i in range(title_at + 1, len(lines)) if HEADLINE.match(lines[i])), None)
        if at is None:
            return cls(None, ContactLine(None, ()), *_evaluation(lines[title_at + 1:], findings))
        printed = [HEADLINE.match(lines[at]).group("pct")]  # type: ignore[union-attr]
        if at - 1 > title_at and (lone := _LONE_NUMBER.match(lines[at - 1])):
            printed.insert(0, lone.group("pct"))
        values = [v for raw in printed if (v := read_or_find(parse_percent, raw, "headline progress", findings))
                  is not None]
        progress, settled = decide(values)
        if not settled:
            findings.append(Finding.of("unsettled_disagreement", "headline progress: the page prints "
                                       f"{' and '.join(printed)}; stored NULL"))
        contact = ContactLine(None, ())
        if at + 1 < len(lines) and not _NO_CONTACT.match(lines[at + 1]) and not _EVALUATION.search(lines[at + 1]):
            contact = read_contact_line(lines[at + 1], 1, titles)
        return cls(progress, contact, *_evaluation(lines[at + 1:], findings))  # type: ignore[arg-type]


def _evaluation(lines: list[str], findings: list[Finding]) -> tuple[int | None, Decimal | None]:
    """'*** สยป. ประเมินโครงการ : ไตรมาสที่ 2 100' -> (2, 100.00); a quarter with no score -> (2, None)."""
    m = next((m for ln in lines if "ประเมินโครงการ" in ln and (m := _EVALUATION.search(ln))), None)
    if m is None:
        return None, None
    quarter = int(m.group("quarter"))
    if not 1 <= quarter <= 4:
        findings.append(Finding.of("implausible_value", f"quarter evaluation: quarter {quarter} cannot be read "
                                   "(a fiscal year has quarters 1-4); stored NULL"))
        return None, None
    score = read_or_find(parse_percent, m.group("score"), "quarter evaluation", findings) if m.group("score") else None
    return quarter, score


def _as_of(progress: Decimal | None, reports: list) -> object:
    """The date of the latest dated report when it states the headline's figure (else the page does not say)."""
    dated = [r for r in reports if r.date is not None]
    if progress is None or not dated:
        return None
    latest = max(dated, key=lambda r: r.report_no)
    return latest.date if latest.progress_pct == progress else None


def _progress_votes(text: str, findings: list[Finding]) -> list[Vote]:
    """The progress figures with their dates (CE in the heading, BE before the narrative: two votes), the
    headline's repeat of the latest figure, and the status lines, which speak of the latest report."""
    votes: list[Vote] = []
    progress_lines = list(_PROGRESS.finditer(text))
    narratives = list(_NARRATIVE.finditer(text))
    for i, m in enumerate(progress_lines):
        no = int(m.group("no"))
        votes.append(Vote(no, "progress_pct", 1, read_or_find(parse_percent, m.group("pct"), f"report {no}", findings)))
        if m.group("iso"):
            iso = read_or_find(parse_iso_datetime, m.group("iso"), f"report {no}", findings)
            votes.append(Vote(no, "date", 1, iso))
        if i < len(narratives):  # the narrative that follows states the same date in BE: a second vote
            n = narratives[i]
            votes.append(Vote(no, "date", 2, read_or_find(parse_be_date, n.group("date"), f"report {no}", findings)))
            votes.append(Vote(no, "note", 1, normalize_thai(n.group("note"))))
    if not progress_lines:
        return votes
    latest = max(int(m.group("no")) for m in progress_lines)
    if headline := next((m for ln in text.split("\n") if (m := HEADLINE.match(ln))), None):
        pct = read_or_find(parse_percent, headline.group("pct"), f"report {latest}", findings)
        votes.append(Vote(latest, "progress_pct", 2, pct))
    for m in _STATUS_LINE.finditer(text):
        reading = classify_status(m.group(1))
        if reading.plan:
            votes.append(Vote(latest, "plan_status", 1, reading.plan))
        if reading.target:
            votes.append(Vote(latest, "target_status", 1, reading.target))
    return votes


def _steps(text: str, findings: list[Finding]) -> list[PlanStep]:
    steps = []
    for m in _STEP.finditer(text):
        no = int(m.group("no"))
        where = f"plan step {no}"
        steps.append(PlanStep(
            step_no=no, description_th=normalize_thai(m.group("desc")),
            weight_pct=read_or_find(parse_percent, m.group("pct"), where, findings) if m.group("pct") else None,
            start_date=read_or_find(parse_iso_datetime, m.group("start"), where, findings),
            end_date=read_or_find(parse_iso_datetime, m.group("end"), where, findings),
        ))
    total = sum((s.weight_pct or Decimal(0)) for s in steps)
    if steps and total != Decimal(100):
        findings.append(Finding.of("plan_weights_not_100", f"step weights add up to {total} %"))
    return steps
