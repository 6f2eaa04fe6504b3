"""The stages of one run as plain functions (the Prefect flow wires these; tests call them directly)."""

from __future__ import annotations

import fcntl
import os
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa

from extract.discover import RawFile, decode_dump, discover_dumps
from extract.reference import Reference, load_overrides, load_reference
from load.tables import SCHEMAS, Quarantined, build_tables
from load.warehouse import ParseCache, publish, read_previous_ledger, read_previous_registry
from schoolnet.settings import Settings
from transform.entities import Resolution, resolve_entities
from transform.parse import parse
from transform.people import title_book
from transform.records import DumpParseError, ParsedDump

PARALLEL_FROM = 32  # below this many files to parse, a process pool costs more than it saves


class RunLockedError(RuntimeError):
    """Another run holds the warehouse."""


@dataclass(frozen=True)
class FileOutcome:
    raw: RawFile
    status: str  # 'loaded', 'quarantined', 'unchanged'
    reason: str | None
    dump: ParsedDump | None


@dataclass
class RunSummary:
    run_id: str
    raw_dir: str
    warehouse_dir: str
    fiscal_year: int | None
    files: Counter = field(default_factory=Counter)
    quarantined: list[tuple[str, str]] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    findings: Counter = field(default_factory=Counter)
    check_failures: int = 0

    def as_text(self) -> str:
        seen = sum(self.files.values())
        lines = [
            f"schoolnet run {self.run_id}: {seen} file(s) in {self.raw_dir} -> {self.warehouse_dir}"
            + (f" (fiscal year {self.fiscal_year} only)" if self.fiscal_year else ""),
            "  files: " + ", ".join(f"{k} {self.files.get(k, 0)}" for k in ("loaded", "unchanged", "quarantined")),
        ]
        lines += [f"  quarantined {name}: {reason}" for name, reason in self.quarantined]
        lines.append("  rows: " + ", ".join(f"{t} {n}" for t, n in sorted(self.rows.items())))
        if self.findings:
            lines.append("  data-quality findings: " + ", ".join(f"{k} {v}" for k, v in sorted(self.findings.items())))
        if self.check_failures:
            lines.append(f"  SQL checks failed on {self.check_failures} row(s): see dq_issue")
        return "\n".join(lines)


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ") + f"-{os.getpid()}"


@contextmanager
def warehouse_lock(warehouse_dir: Path) -> Iterator[None]:
    """One run at a time per warehouse; a second run stops at once with a clear message."""
    warehouse_dir.mkdir(parents=True, exist_ok=True)
    with (warehouse_dir / ".run.lock").open("w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise RunLockedError(f"another schoolnet run is writing {warehouse_dir}; try again when it ends") from exc
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def parse_raw_file(raw: RawFile, reference_dir: str) -> FileOutcome:
    """Decode and parse one file; any failure to understand it is a quarantine, never a crash."""
    decoded = decode_dump(raw)
    if decoded.text is None:
        return FileOutcome(raw, "quarantined", decoded.error, None)
    try:
        dump = parse(decoded.text, raw.source_file, title_book(reference_dir))
    except DumpParseError as exc:
        return FileOutcome(raw, "quarantined", exc.why, None)
    except (ValueError, IndexError, KeyError, TypeError, ArithmeticError, RecursionError) as exc:
        return FileOutcome(raw, "quarantined", f"parser error: {type(exc).__name__}: {exc}", None)
    return FileOutcome(raw, "loaded", None, dump)


def ingest(settings: Settings, full_refresh: bool = False) -> list[FileOutcome]:
    """Every raw file, parsed or taken unchanged from the cache of the previous run."""
    raw_files = discover_dumps(settings.raw_dir)
    cache = ParseCache(settings.warehouse_dir)
    previous = read_previous_ledger(settings.warehouse_dir)
    loaded_before = {(r["source_file"], r["content_sha256"]) for r in previous.to_pylist()
                     if r["status"] in ("loaded", "unchanged")}
    outcomes: dict[str, FileOutcome] = {}
    to_parse: list[RawFile] = []
    for raw in raw_files:
        cached = None if full_refresh else cache.get(raw.content_sha256)
        if cached is not None and (raw.source_file, raw.content_sha256) in loaded_before:
            if cached.source_file != raw.source_file:
                cached = _renamed(cached, raw.source_file)
            outcomes[raw.source_file] = FileOutcome(raw, "unchanged", None, cached)
        else:
            to_parse.append(raw)
    reference_dir = str(settings.reference_dir)
    if len(to_parse) >= PARALLEL_FROM and settings.workers > 1:
        with ProcessPoolExecutor(max_workers=settings.workers) as pool:
            parsed = list(pool.map(parse_raw_file, to_parse, [reference_dir] * len(to_parse), chunksize=16))
    else:
        parsed = [parse_raw_file(raw, reference_dir) for raw in to_parse]
    for outcome in parsed:
        outcomes[outcome.raw.source_file] = outcome
        if outcome.dump is not None:
            cache.put(outcome.raw.content_sha256, outcome.dump)
    return [outcomes[raw.source_file] for raw in raw_files]


def _renamed(dump: ParsedDump, source_file: str) -> ParsedDump:
    return replace(dump, source_file=source_file)


def resolve(outcomes: list[FileOutcome], settings: Settings, run_id: str | None = None,
            ) -> tuple[Resolution, Reference]:
    """Identities of every parsed dump, keeping the ids of earlier runs and honouring overrides."""
    reference = load_reference(settings.reference_dir)
    overrides = load_overrides(settings.reference_dir)
    registry = read_previous_registry(settings.warehouse_dir)
    dumps = [o.dump for o in outcomes if o.dump is not None]
    return resolve_entities(dumps, reference, settings.match, registry, overrides, run_id), reference


def load(outcomes: list[FileOutcome], resolution: Resolution, reference: Reference, settings: Settings,
         run_id: str, fiscal_year: int | None = None) -> RunSummary:
    """Build every table, append this run to the ledger, publish, and summarise."""
    dumps = [o.dump for o in outcomes if o.dump is not None]
    quarantined = [Quarantined(o.raw.source_file, o.raw.content_sha256, o.reason or "")
                   for o in outcomes if o.status == "quarantined"]
    tables = build_tables(dumps, resolution, reference, quarantined)
    now = datetime.now(UTC)
    ledger_rows = [{"run_id": run_id, "source_file": o.raw.source_file, "content_sha256": o.raw.content_sha256,
                    "status": o.status, "reason": o.reason, "layout": o.dump.layout if o.dump else None,
                    "recorded_at": now} for o in outcomes]
    previous = read_previous_ledger(settings.warehouse_dir)
    tables["ingest_ledger"] = pa.concat_tables([
        previous, pa.Table.from_pylist(ledger_rows, schema=SCHEMAS["ingest_ledger"])])
    statuses = Counter(o.status for o in outcomes)
    names = {o.raw.source_file for o in outcomes}
    if len(names) != len(outcomes) or sum(statuses[s] for s in ("loaded", "quarantined", "unchanged")) != len(names):
        raise RuntimeError(f"accounting error: {len(names)} files seen, statuses {dict(statuses)}")
    failures = publish(settings.warehouse_dir, tables, run_id, fiscal_year)
    summary = RunSummary(run_id, str(settings.raw_dir), str(settings.warehouse_dir), fiscal_year)
    summary.files.update(o.status for o in outcomes)
    summary.quarantined = [(q.source_file, q.reason) for q in quarantined]
    summary.rows = {name: t.num_rows for name, t in tables.items()}
    summary.rows["dq_issue"] += len(failures)
    summary.findings.update(tables["dq_issue"].column("check_name").to_pylist())
    summary.findings.update(f.check_name for f in failures)
    summary.check_failures = len(failures)
    return summary


def run_once(settings: Settings, fiscal_year: int | None = None, full_refresh: bool = False) -> RunSummary:
    """The whole run without Prefect (the flow runs the same stages as tasks)."""
    run_id = new_run_id()
    with warehouse_lock(settings.warehouse_dir):
        outcomes = ingest(settings, full_refresh)
        resolution, reference = resolve(outcomes, settings, run_id)
        return load(outcomes, resolution, reference, settings, run_id, fiscal_year)
