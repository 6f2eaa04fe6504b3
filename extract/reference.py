"""Verified reference data (districts, schools, BMA agencies) read from CSV into typed rows."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from common.records import OVERRIDE_ACTIONS, Agency, District, Override, Overrides, Reference, RegistrySchool
from common.text import normalize_thai


class ReferenceError(FileNotFoundError):
    """Reference data is missing or malformed."""


def load_reference(reference_dir: Path) -> Reference:
    districts_csv = reference_dir / "bangkok_districts.csv"
    schools_csv = reference_dir / "bma_schools.csv"
    agencies_csv = reference_dir / AGENCIES_FILE
    for path in (districts_csv, schools_csv, agencies_csv):
        if not path.exists():
            raise ReferenceError(f"reference file {path} is missing")
    with districts_csv.open(encoding="utf-8") as fh:
        districts = tuple(
            District(row["bma_district_id"].strip(), normalize_thai(row["name_th"]), row["name_en"].strip())
            for row in csv.DictReader(fh)
        )
    with schools_csv.open(encoding="utf-8") as fh:
        schools = tuple(
            RegistrySchool(
                normalize_thai(row["name_no_prefix_th"]),
                normalize_thai(row["name_th_short"].removeprefix("โรงเรียน")) or None,
                row["district_bma_id"].strip(),
            )
            for row in csv.DictReader(fh)
        )
    if len(districts) != 50:
        raise ReferenceError(f"{districts_csv} holds {len(districts)} districts, expected 50")
    return Reference(districts, schools, str(reference_dir),
                     load_agencies(agencies_csv, reference_dir / AGENCY_NAMES_FILE))


AGENCIES_FILE = "bma_agencies.csv"
AGENCY_NAMES_FILE = "agency_names.csv"  # optional: names agencies print today that the list does not have
DISTRICT_OFFICE = re.compile(r"50\d{2}0000")  # a district office's agency code; any other is a department's


def load_agencies(path: Path, names_path: Path | None = None) -> tuple[Agency, ...]:
    """bma_agencies.csv: every department and the 50 district offices, by their 8-digit code; with the names
    agency_names.csv says they print today (a renamed department keeps its code)."""
    with path.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    printed: dict[str, list[str]] = {}
    if names_path is not None and names_path.exists():
        with names_path.open(encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                printed.setdefault(row["agency_code"].strip(), []).append(normalize_thai(row["name_th"]))
    agencies = []
    for row in rows:
        code = row["bma_code"].strip()
        if not re.fullmatch(r"\d{8}", code):
            raise ReferenceError(f"{path}: {code!r} is not an 8-digit agency code")
        office = DISTRICT_OFFICE.fullmatch(code) is not None
        agencies.append(Agency(code, normalize_thai(row["name_th"]), "district_office" if office else "department",
                               code[:4] if office else None, tuple(printed.get(code, ()))))
    return tuple(sorted(agencies, key=lambda a: a.agency_code))


def load_overrides(reference_dir: Path) -> Overrides:
    """data/reference/overrides.csv (optional): analyst decisions the next run honours.

    Columns: action,entity_type,subject,target. Lines starting with '#' are comments.
      pin     coordinator|officer|school  <raw or normalised spelling>  <canonical_id>
      forbid  coordinator|officer|school  <id or spelling>              <id or spelling>
      rename  coordinator|officer|school  <canonical_id>                <new canonical name>
    """
    path = reference_dir / "overrides.csv"
    if not path.exists():
        return Overrides()
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines()
             if ln.strip() and not ln.lstrip().startswith("#")]
    rules = []
    for line_no, row in enumerate(csv.DictReader(lines), start=2):
        action = (row.get("action") or "").strip()
        entity_type = (row.get("entity_type") or "").strip()
        subject, target = (row.get("subject") or "").strip(), (row.get("target") or "").strip()
        if action not in OVERRIDE_ACTIONS or entity_type not in ("coordinator", "officer", "school") \
                or not subject or not target:
            raise ReferenceError(f"{path}: row {line_no} is not a valid override: {row}")
        rules.append(Override(action, entity_type, subject, target))
    return Overrides(tuple(rules))
