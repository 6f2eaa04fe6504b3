"""Layout 2, the scraped web progress page: code and district in the title lines, one progress figure
with its date (printed twice: CE in the heading, BE before the narrative), a step plan, a KPI block."""

from __future__ import annotations

import re
from decimal import Decimal

from common.records import DumpParseError, Finding, ParsedDump, PlanStep, ProjectHeader, Vote
from common.text import normalize_thai
from transform.consensus import consensus_across_renderings
from transform.status import classify_status
from transform.text_mentions import district_mentions, network_numbers, school_mentions
from transform.values import PROJECT_CODE, parse_be_date, parse_iso_datetime, parse_percent, read_or_find

_TITLE = re.compile(rf"^(?P<name>[^\n:]+?)\s*:\s*(?P<code>{PROJECT_CODE})\s*$", re.MULTILINE)
_DISTRICT_YEAR = re.compile(r"^(?P<unit>สำนักงานเขต\S+)\s*:\s*\(\s*(?P<year>\d{4})\s*\)", re.MULTILINE)
_PROGRESS = re.compile(
    r"\((?P<no>\d{1,3})\)\s*ความคืบหน้าโครงการ\S*\s*ร้อยละ\s*(?P<pct>\d+(?:\.\d+)?)\s*(?:\((?P<iso>[\d-]+)\))?"
)
_NARRATIVE = re.compile(r"^(?P<date>\d{1,2}/\d{1,2}/\d{4})\s*:\s*(?P<note>.+)$", re.MULTILINE)
_HEADLINE_PCT = re.compile(r"^ความคืบหน้าโครงการ\s*ร้อยละ\s*(\d+(?:\.\d+)?)\s*$", re.MULTILINE)
_STEP = re.compile(
    r"ขั้นตอน\s*(?P<no>\d{1,3})\s*\n\s*:(?P<desc>[^\n]*)\n\s*:(?P<pct>[\d.]+)\s*%?\s*\n"
    r"\s*เริ่มต้น\s*:(?P<start>[^\n]*)\n\s*สิ้นสุด\s*:(?P<end>[^\n]*)"
)
_UNIT = re.compile(r"^(ฝ่าย\S+)\s*$", re.MULTILINE)
_STATUS_LINE = re.compile(r"^\s*:?\s*((?:ไม่\s*)?เป็นไปตาม\S*)\s*$", re.MULTILINE)


def parse_web_progress(text: str, source: str) -> ParsedDump:
    # the document's character fixes once, then each line's spaces collapsed: values are normalised as read
    text = "\n".join(" ".join(line.split()) for line in normalize_thai(text, keep_lines=True).split("\n"))
    title = _TITLE.search(text)
    if not title:
        raise DumpParseError(source, "web progress page without a 'name : 50XX0000-NNNN' title line")
    findings: list[Finding] = []
    votes = _progress_votes(text, findings)
    reports, report_findings = consensus_across_renderings(votes, source, whole_series=False)
    findings.extend(report_findings)
    unit_m = _DISTRICT_YEAR.search(text)
    steps = _steps(text, findings)  # before the findings are frozen: the plan's own findings are among them
    return ParsedDump(
        source_file=source, layout="web_progress", renderings=1, header=_header(text, title, unit_m),
        district_mentions=tuple(district_mentions([unit_m.group("unit")] if unit_m else [])),
        people=(), reports=tuple(reports), networks=tuple(network_numbers(text)),
        schools=tuple(school_mentions(text)), votes=tuple(votes), findings=tuple(findings), steps=tuple(steps),
    )


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
    if headline := _HEADLINE_PCT.search(text):
        pct = read_or_find(parse_percent, headline.group(1), f"report {latest}", findings)
        votes.append(Vote(latest, "progress_pct", 2, pct))
    for m in _STATUS_LINE.finditer(text):
        reading = classify_status(m.group(1))
        if reading.plan:
            votes.append(Vote(latest, "plan_status", 1, reading.plan))
        if reading.target:
            votes.append(Vote(latest, "target_status", 1, reading.target))
    return votes


def _header(text: str, title: re.Match[str], unit_m: re.Match[str] | None) -> ProjectHeader:
    unit = _UNIT.search(text)
    unit_th = " / ".join(x for x in (normalize_thai(unit_m.group("unit")) if unit_m else None,
                                     normalize_thai(unit.group(1)) if unit else None) if x) or None
    return ProjectHeader(
        project_code=title.group("code"), fiscal_year=int(unit_m.group("year")) if unit_m else None,
        name_th=normalize_thai(title.group("name")), budget_thb=None, reported_spent_thb=None,
        start_date=None, end_date=None, unit_th=unit_th,
    )


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
