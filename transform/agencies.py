"""The agency behind a project, and its district: a district office (50XX0000, in one of the 50 districts) or a
department (สำนักการศึกษา 09000000, ...), which has none.

The project code says it first (its 8 digits are the agency's code); a project without a code (a proposal)
is placed by the agency it prints: a department by its name in the reference list, a district office by the
district its mentions point to. A department's project never gets a district guessed from its text.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from common.records import Agency, District, Finding, ParsedDump, Reference
from common.settings import MatchSettings
from common.text import normalize_thai
from transform.districts import resolve_district
from transform.identity import Alias

DISTRICT_OFFICE_NAME = "สำนักงานเขต"
DEPARTMENT_MIN_SCORE, DEPARTMENT_MIN_MARGIN = 90.0, 5.0  # an OCR'd department name, against the list's


@dataclass(frozen=True)
class Placement:
    """Where a document's project belongs: its agency, its district (district offices only), the district
    spellings it used and what placing it found."""

    agency_code: str | None
    district: District | None = None
    aliases: list[Alias] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    agency_th: str | None = None  # the agency's name as the document prints it (read_as_printed)

    @property
    def district_id(self) -> str | None:
        return self.district.district_id if self.district else None

    @property
    def home(self) -> str | None:
        """What the project's officers belong to: their district, or for a department its agency code."""
        return self.district_id or (self.agency_code if is_department(self.agency_code) else None)


def is_department(agency_code: str | None) -> bool:
    return agency_code is not None and not (agency_code.startswith("50") and agency_code.endswith("0000"))


def place(dump: ParsedDump, reference: Reference, settings: MatchSettings) -> Placement:
    """The document's agency and district, from its project code, else from the agency it prints; and the
    name it prints."""
    placement = _place(dump, reference, settings)
    return replace(placement, agency_th=read_as_printed(dump.header.agency_th, placement.agency_code, reference))


PRINTED_MAX_EDITS = 2  # an OCR'd agency name this close to one its agency prints is that name


def read_as_printed(printed: str | None, agency_code: str | None, reference: Reference) -> str | None:
    """The agency name a document prints: a scan's 'สำนักงานเขตดูสิต' of 50070000 is its office's name
    สำนักงานเขตดุสิต misread (within PRINTED_MAX_EDITS of the list's name or of a name the agency prints today,
    the closest alone); a name far from all of them is printed as read (a department renamed since the list)."""
    agency = next((a for a in reference.agencies if a.agency_code == agency_code), None)
    if printed is None or agency is None:
        return printed
    name = normalize_thai(printed)
    known = sorted({agency.name_th, *agency.printed_names})
    if name in known:
        return name
    ranked = sorted((Levenshtein.distance(name, k), k) for k in known)
    close = [k for d, k in ranked if d <= PRINTED_MAX_EDITS and d == ranked[0][0]]
    return close[0] if len(close) == 1 else printed


def _place(dump: ParsedDump, reference: Reference, settings: MatchSettings) -> Placement:
    code = dump.header.project_code
    if code:
        agency = code[:8]
        if is_department(agency):
            return Placement(agency)
        district, aliases, findings = resolve_district(dump, reference, settings)
        return Placement(agency, district, aliases, findings)
    printed = dump.header.agency_th
    if printed and not normalize_thai(printed).startswith(DISTRICT_OFFICE_NAME):
        department = match_department(printed, reference.agencies)
        if department is not None:
            return Placement(department.agency_code)
        return Placement(None, findings=[Finding.of("agency_unresolved", f"agency {printed!r} is no department of "
                                                    "the reference list (bma_agencies.csv) and the document has no "
                                                    "project code")])
    district, aliases, findings = resolve_district(dump, reference, settings)
    return Placement(f"{district.district_id}0000" if district else None, district, aliases, findings)


def match_department(printed: str, agencies: tuple[Agency, ...]) -> Agency | None:
    """The department a printed name is: the name it prints today (a renamed department's new name is its own,
    even where the list has another unit under it), the list's name, or one OCR variant of a single
    department's."""
    departments = [a for a in agencies if a.level == "department"]
    name = normalize_thai(printed)
    for a in departments:
        if name in a.printed_names:
            return a
    for a in departments:
        if a.name_th == name:
            return a
    ranked = process.extract(name, [a.name_th for a in departments], scorer=fuzz.ratio, limit=2)
    if not ranked or ranked[0][1] < DEPARTMENT_MIN_SCORE:
        return None
    if len(ranked) > 1 and ranked[0][1] - ranked[1][1] < DEPARTMENT_MIN_MARGIN:
        return None
    return departments[ranked[0][2]]
