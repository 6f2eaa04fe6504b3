"""One typed settings object; every value can be overridden from the environment (SCHOOLNET_*)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SQL_DIR = PROJECT_ROOT / "sql"


class SettingsError(ValueError):
    """A setting is missing or malformed."""


# the folders a run created through the Prefect API may read from and write into (os.pathsep-separated);
# `schoolnet serve` sets it to the raw dir and warehouse it serves, unless it is set
RUN_ROOTS_VARIABLE = "SCHOOLNET_RUN_ROOTS"


def run_roots() -> list[Path]:
    value = os.environ.get(RUN_ROOTS_VARIABLE, "")
    return [Path(p).expanduser().resolve() for p in value.split(os.pathsep) if p.strip()]


def check_within_roots(name: str, folder: Path, roots: list[Path]) -> None:
    """A folder a run was asked to use through the API, refused unless it is one of the roots or inside one
    (resolved: a symbolic link or '..' does not lead out)."""
    resolved = folder.expanduser().resolve()
    if not any(resolved == root or root in resolved.parents for root in roots):
        allowed = ", ".join(str(r) for r in roots) or "none configured"
        raise SettingsError(f"{name} {folder} is outside the folders this deployment may use ({allowed}; "
                            f"{RUN_ROOTS_VARIABLE} adds others): refused")


@dataclass(frozen=True)
class MatchSettings:
    """Thresholds and weights of entity resolution (0-100 scales, as rapidfuzz scores)."""

    # A person's name variants within one field of one dump always merge; across dumps:
    person_same_phone_min_score: float = 70.0  # same phone: OCR variants of one name merge from here
    person_no_phone_min_score: float = 92.0  # one side has no phone: only near-identical names merge
    # ... unless they are officers of the same district: OCR variants score 85-91, namesakes ~79
    person_same_district_min_score: float = 85.0
    # with no phone to confirm, names must also be OCR-close: a letter or two, not another first name
    # (measured: OCR variants 1-2 edits apart, two officers sharing a surname 4)
    person_name_only_max_edits: int = 2
    person_tone_skeleton_penalty: float = 3.0  # score on names stripped of tone marks, minus this
    # two people kept apart whose names are this few edits apart are listed in entity_review: namesakes or one
    # person seen with two phones, titles or districts, which only a person can tell (names further apart
    # are told apart by the names themselves; listing them made a queue of 605 pairs for 171 people)
    person_review_max_edits: int = 2
    school_min_score: float = 80.0  # registry match within the district
    school_review_margin: float = 5.0  # best - second below this: listed for review
    # spellings of one school that is not in the registry: OCR changes a character or two, not a word
    school_cluster_max_edits: int = 1
    school_cluster_max_edits_long: int = 2  # for names of school_cluster_long_from characters or more
    school_cluster_long_from: int = 12
    district_min_mean_score: float = 40.0  # mean score per mention of the winning district
    district_min_margin: float = 3.0  # mean-score lead over the runner-up


@dataclass(frozen=True)
class Settings:
    raw_dir: Path = Path("data/raw")
    warehouse_dir: Path = Path("data/warehouse")
    reference_dir: Path = PROJECT_ROOT / "data" / "reference"
    workers: int = 2
    batch_size: int = 384  # files per parsing task, and per chunk of the document store
    max_file_mb: int = 20  # a raw file above this is quarantined unread (real dumps are 5-80 KB)
    dask_address: str | None = None  # a Dask scheduler (tcp://host:8786): the flow's tasks run there
    sources_file: Path = PROJECT_ROOT / "data" / "sources.toml"  # where raw dumps are pulled from
    sources: str | None = None  # SCHOOLNET_SOURCES: URLs that replace the sources file
    s3_endpoint_url: str | None = None  # an S3-compatible API for s3:// sources
    pull_retries: int = 4  # attempts per remote file (waits 0.5, 1, 2 s between them)
    pull_timeout_s: int = 30  # a remote that sends nothing for this long has failed this attempt
    pull_deadline_s: int = 120  # a whole download (or listing) however the server drips it: then it fails
    pull_max_files: int = 10_000  # files one listing may name; the rest are not pulled (the ledger says so)
    # PDF files and scans (extract/documents.py): tesseract reads scans in one pass per page-segmentation mode
    tesseract: str = "tesseract"  # the command, or a path to it
    ocr_languages: str = "tha+eng"
    ocr_passes: str = "6,4"  # tesseract --psm of each pass, comma-separated: every pass is a rendering
    ocr_dpi: int = 300  # pages are rendered (and images scaled) to this resolution for OCR
    ocr_page_timeout_s: int = 120  # one page in one pass: a page OCR does not finish in time is not read
    max_pdf_pages: int = 50  # a PDF (or TIFF) with more pages is quarantined unread
    match: MatchSettings = field(default_factory=MatchSettings)

    def ocr_passes_psm(self) -> tuple[int, ...]:
        return tuple(int(p) for p in self.ocr_passes.split(","))

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Defaults, then SCHOOLNET_<NAME> environment variables, then explicit non-None overrides."""
        values: dict[str, object] = {}
        for f in fields(cls):
            if f.name == "match":
                continue
            env = os.environ.get(f"SCHOOLNET_{f.name.upper()}")
            if env is not None:
                if env.strip() == "":
                    raise SettingsError(f"SCHOOLNET_{f.name.upper()} is set but empty")
                values[f.name] = _coerce(f.name, env)
        for name, value in overrides.items():
            if value is not None:
                values[name] = _coerce(name, value)
        return replace(cls(), **values)


def _coerce(name: str, value: object) -> object:
    if name in {"raw_dir", "warehouse_dir", "reference_dir", "sources_file"}:
        return Path(str(value))
    if name == "ocr_passes":
        passes = [p.strip() for p in str(value).split(",")]
        if not passes or not all(p.isdigit() and 0 <= int(p) <= 13 for p in passes):
            raise SettingsError(f"ocr_passes must be tesseract page-segmentation modes (0-13) separated by "
                                f"commas, e.g. 6,4; got {value!r}")
        return ",".join(passes)
    if name in ("workers", "batch_size", "max_file_mb", "pull_retries", "pull_timeout_s", "pull_deadline_s",
                "pull_max_files", "ocr_dpi", "ocr_page_timeout_s", "max_pdf_pages"):
        try:
            n = int(str(value))
        except ValueError as exc:
            raise SettingsError(f"{name} must be an integer, got {value!r}") from exc
        if n < 1:
            raise SettingsError(f"{name} must be >= 1, got {n}")
        return n
    if name in ("dask_address", "sources", "s3_endpoint_url", "tesseract", "ocr_languages"):
        return str(value)
    raise SettingsError(f"unknown setting {name!r}")
