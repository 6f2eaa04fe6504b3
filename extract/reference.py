"""Verified reference data (districts, schools) read from CSV into typed rows."""

from __future__ import annotations

import csv
from pathlib import Path

from common.records import OVERRIDE_ACTIONS, District, Override, Overrides, Reference, RegistrySchool
from common.text import normalize_thai


class ReferenceError(FileNotFoundError):
    """Reference data is missing or malformed."""


def load_reference(reference_dir: Path) -> Reference:
    districts_csv = reference_dir / "bangkok_districts.csv"
    schools_csv = reference_dir / "bma_schools.csv"
    for path in (districts_csv, schools_csv):
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
    return Reference(districts, schools, str(reference_dir))


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
