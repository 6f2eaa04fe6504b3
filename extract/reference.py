"""Verified reference data (districts, schools) read from CSV into typed rows."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from transform.normalize import normalize_thai


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
class Reference:
    districts: tuple[District, ...]
    schools: tuple[RegistrySchool, ...]
    reference_dir: str


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
