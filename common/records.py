"""Typed records that cross stage boundaries: the reference data and an analyst's overrides, what a parser
reads, and what consensus decides."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from common.findings import check
from common.text import normalize_thai


class DumpParseError(ValueError):
    """A dump the parser cannot understand; the file is quarantined with this reason."""

    def __init__(self, source_file: str, why: str):
        self.source_file, self.why = source_file, why
        super().__init__(f"{source_file}: {why}")


@dataclass(frozen=True, slots=True)
class PersonMention:
    """One rendering's spelling of a person in one role, with the evidence printed beside it."""

    role: str  # 'officer', 'coordinator', 'signatory', 'co_officer' (a second person a web page names)
    raw: str  # as printed, title and phone included
    title_th: str | None
    name_th: str  # title and phone stripped, normalised
    phone: str | None
    rendering: int
    position_th: str | None = None  # e.g. 'หัวหน้าฝ่ายการศึกษา' under a signature


@dataclass(frozen=True, slots=True)
class SchoolMention:
    """A school named with its network ('เครือข่ายที่ 53 โรงเรียนวัดนิมมานรดี'). Where the name ends is for
    the registry to tell: name_th is its first word (and parenthetical), tail the words that may go on it
    ('ในพระราชูปถัมภ์ฯ'); same_line says whether it was printed on its network's line (a name on a later
    line, after a break, may be the start of a paragraph instead)."""

    raw: str
    name_th: str  # without the word โรงเรียน
    network_no: int | None
    tail: str = ""
    same_line: bool = True


@dataclass(frozen=True, slots=True)
class Vote:
    """What one rendering said about one field of one report (value None = said 'absent')."""

    report_no: int
    field: str
    rendering: int
    value: object


@dataclass(frozen=True, slots=True)
class Finding:
    """A data-quality finding on one dump (becomes a dq_issue row)."""

    check_name: str  # one of common/findings.py
    severity: str  # 'error' or 'warning', as the list says
    detail: str

    @classmethod
    def of(cls, check_name: str, detail: str) -> Finding:
        return cls(check_name, check(check_name).severity, detail)


@dataclass(frozen=True, slots=True)
class ReportEntry:
    """One monthly report of one project, as decided across renderings."""

    report_no: int
    date: date | None
    period_month: date | None
    month_imputed: bool
    progress_pct: Decimal | None
    cumulative_thb: Decimal | None
    disbursed_thb: Decimal | None
    plan_status: str | None
    target_status: str | None
    note_th: str | None


@dataclass(frozen=True, slots=True)
class PlanStep:
    step_no: int
    description_th: str
    weight_pct: Decimal | None
    start_date: date | None
    end_date: date | None


@dataclass(frozen=True, slots=True)
class ProjectHeader:
    project_code: str | None
    fiscal_year: int | None
    name_th: str | None
    budget_thb: Decimal | None
    reported_spent_thb: Decimal | None
    start_date: date | None
    end_date: date | None
    unit_th: str | None
    agency_th: str | None = None  # the agency as printed: 'สำนักงานเขตภาษีเจริญ', 'สำนักการศึกษา'


@dataclass(frozen=True, slots=True)
class Headline:
    """What a web progress page prints under its title: the latest progress (with the date of the dated
    report that states it, when the page has one) and the evaluation coordinator's quarter score."""

    progress_pct: Decimal | None = None
    as_of: date | None = None
    evaluation_quarter: int | None = None
    evaluation_score: Decimal | None = None


NETWORK_EVENTS = ("allocated", "activity_done", "in_progress", "disbursed", "not_disbursed")


@dataclass(frozen=True, slots=True)
class NetworkEvent:
    """What one report's narrative says of one network, decided across renderings."""

    report_no: int
    network_no: int
    event: str  # one of NETWORK_EVENTS
    amount_thb: Decimal | None
    reason_th: str | None
    sentence_th: str


@dataclass(frozen=True, slots=True)
class ParsedDump:
    """Everything one dump says, values already decided across its renderings."""

    source_file: str
    layout: str
    renderings: int
    header: ProjectHeader
    district_mentions: tuple[str, ...]
    people: tuple[PersonMention, ...]
    reports: tuple[ReportEntry, ...]
    networks: tuple[int, ...]
    schools: tuple[SchoolMention, ...]
    votes: tuple[Vote, ...] = ()
    findings: tuple[Finding, ...] = ()
    steps: tuple[PlanStep, ...] = field(default_factory=tuple)
    headline: Headline | None = None  # web progress pages
    network_events: tuple[NetworkEvent, ...] = ()


# -- pulling raw dumps from where they are published (extract/pull.py -> pull_ledger) --------------------

PULL_STATUSES = ("fetched", "unchanged", "failed", "refused", "gone_at_source")


@dataclass(frozen=True, slots=True)
class PullRecord:
    """One remote file in one pull (a pull_ledger row); remote_path "" stands for the source itself."""

    source: str  # the source's URL (credentials never in it)
    remote_path: str  # relative to the source's root, '/'-separated
    status: str  # one of PULL_STATUSES
    etag: str | None = None
    last_modified: str | None = None
    size_bytes: int | None = None
    content_sha256: str | None = None
    landed_path: str | None = None  # relative to the raw dir
    error: str | None = None


# -- reference data and overrides (read by extract, used by transform and load) --------------------------

@dataclass(frozen=True)
class District:
    district_id: str  # 4-digit BMA code, e.g. '5021'
    name_th: str
    name_en: str


@dataclass(frozen=True)
class RegistrySchool:
    name_th: str  # without the word โรงเรียน
    short_th: str | None
    district_id: str


@dataclass(frozen=True)
class Agency:
    """A BMA agency of the reference list: a district office (50XX0000) or a department."""

    agency_code: str  # 8 digits
    name_th: str
    level: str  # 'district_office' or 'department'
    district_id: str | None  # district offices only
    printed_names: tuple[str, ...] = ()  # names it prints today besides the list's (agency_names.csv)


@dataclass(frozen=True)
class Reference:
    districts: tuple[District, ...]
    schools: tuple[RegistrySchool, ...]
    reference_dir: str
    agencies: tuple[Agency, ...] = ()


OVERRIDE_ACTIONS = ("pin", "forbid", "rename")


@dataclass(frozen=True, slots=True)
class Override:
    action: str  # 'pin' (raw spelling -> id), 'forbid' (never merge a and b), 'rename' (id -> name)
    entity_type: str
    subject: str
    target: str


@dataclass(frozen=True)
class Overrides:
    rules: tuple[Override, ...] = ()

    def pins(self, entity_type: str) -> dict[str, str]:
        """Normalised spelling -> pinned id."""
        return {normalize_thai(o.subject): o.target for o in self.rules
                if o.action == "pin" and o.entity_type == entity_type}

    def forbidden(self, entity_type: str) -> list[tuple[str, str]]:
        return [(normalize_thai(o.subject), normalize_thai(o.target)) for o in self.rules
                if o.action == "forbid" and o.entity_type == entity_type]

    def renames(self, entity_type: str) -> dict[str, str]:
        return {o.subject: normalize_thai(o.target) for o in self.rules
                if o.action == "rename" and o.entity_type == entity_type}


NO_OVERRIDES = Overrides()
