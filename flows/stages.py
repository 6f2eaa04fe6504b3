"""The stages of one run as plain functions, and their order, stated once: extract and parse -> resolve
identities -> load. The Prefect flow (flows/etl.py) runs each stage as a task; tests and the benchmark call
them directly (run_once), without Prefect."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from common.records import Reference
from common.settings import Settings
from extract.discover import discover_files
from extract.pull import Landing, PullOptions, pull_source
from extract.reference import load_overrides, load_reference
from extract.sources import SourceSpec, open_source
from flows.lock import warehouse_lock
from flows.summary import PullSummary, RunSummary, progress_bar
from flows.workers import BatchRunner, WorkerConfig, file_fingerprint, process_pool_runner
from load.assemble import RunInfo
from load.publish import projects_in_year, publish, published_row_counts
from load.report import REPORT_DIR
from load.state import STATE_DIR, ParseCache, last_pulls, loaded_in_last_run, read_previous_registry, write_pull_ledger
from load.tables import dimension_tables, lookup_tables
from transform.entities import Evidence, Resolution, resolve_entities

# Arrow's default pool keeps freed memory for reuse; the system allocator gives it back (measured:
# peak RSS at 20,000 documents 571 -> 521 MB)
pa.set_memory_pool(pa.system_memory_pool())

# A stage runner: (task name, stage function, its arguments) -> its result. Plain calls by default; the flow
# makes each stage a Prefect task.
StepRunner = Callable[..., Any]


def call(name: str, stage: Callable[..., Any], *args: Any) -> Any:
    return stage(*args)


@dataclass
class Ingested:
    """What parsing leaves for the next stages: the staged chunks, the folded evidence, the file tally."""

    chunks_dir: Path
    evidence: Evidence
    files: Counter = field(default_factory=Counter)  # status -> files
    quarantined: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    seen: int = 0


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ") + f"-{os.getpid()}"


def run_stages(settings: Settings, run_id: str, fiscal_year: int | None = None, full_refresh: bool = False,
               step: StepRunner = call, runner: BatchRunner | None = None) -> RunSummary:
    """The stages in their order (the caller holds the warehouse lock)."""
    ingested = step("extract-and-parse", ingest, settings, full_refresh, run_id, None, runner)
    resolution, reference = step("resolve-entities", resolve, ingested, settings, run_id)
    return step("load-warehouse", load, ingested, resolution, reference, settings, run_id, fiscal_year)


def pull(settings: Settings, specs: list[SourceSpec], run_id: str) -> PullSummary:
    """Fetch every source into the raw dir (the caller holds the warehouse lock); the pull ledger goes to
    the warehouse's state, and into the warehouse at the next publish."""
    summary = PullSummary(run_id, str(settings.raw_dir))
    if not specs:
        return summary
    landing = Landing(settings.raw_dir, settings.warehouse_dir / STATE_DIR)
    options = PullOptions(retries=settings.pull_retries, max_bytes=settings.max_file_mb << 20)
    sources = [open_source(s.url, s.name, s.endpoint_url or settings.s3_endpoint_url, settings.pull_timeout_s)
               for s in specs]
    landing.clean([s.name for s in sources])
    previous = last_pulls(settings.warehouse_dir)
    records = []
    for source in sources:
        done = pull_source(source, landing, previous.get(source.url, {}), options)
        records += done
        summary.counts[source.url] = Counter(r.status for r in done)
        summary.failures += [f"{source.url}{r.remote_path}: {r.error}" for r in done if r.status == "failed"]
    write_pull_ledger(settings.warehouse_dir, run_id, records, datetime.now(UTC))
    return summary


def run_once(settings: Settings, fiscal_year: int | None = None, full_refresh: bool = False) -> RunSummary:
    """The whole run without Prefect."""
    with warehouse_lock(settings.warehouse_dir):
        return run_stages(settings, new_run_id(), fiscal_year, full_refresh)


def ingest(settings: Settings, full_refresh: bool = False, run_id: str | None = None,
           progress: Callable[[int, int], None] | None = None, runner: BatchRunner | None = None) -> Ingested:
    """Every raw file, parsed or taken unchanged from the parse cache; its rows staged to disk."""
    files = discover_files(settings.raw_dir)
    ParseCache(settings.warehouse_dir, settings.reference_dir).prune_others()
    loaded_before = frozenset(file_fingerprint(f, sha) for f, sha in loaded_in_last_run(settings.warehouse_dir))
    chunks = settings.warehouse_dir / f".chunks-{run_id or new_run_id()}"
    chunks.mkdir(parents=True, exist_ok=True)
    config = WorkerConfig(str(settings.raw_dir), str(chunks), str(settings.reference_dir),
                          str(settings.warehouse_dir), settings.match, loaded_before, full_refresh,
                          settings.max_file_mb << 20)
    ingested = Ingested(chunks, Evidence(), seen=len(files))
    report = progress or progress_bar
    run_batches = runner or process_pool_runner(settings.workers)
    for result in run_batches(files.batches(settings.batch_size), len(files), config):
        ingested.evidence.merge(result.evidence)
        ingested.files.update(result.files)
        ingested.quarantined.extend(result.quarantined)
        report(sum(ingested.files.values()), len(files))
    return ingested


def resolve(ingested: Ingested, settings: Settings, run_id: str | None = None) -> tuple[Resolution, Reference]:
    """Identities of the corpus from its folded evidence, keeping the ids of earlier runs and honouring
    overrides."""
    reference = load_reference(settings.reference_dir)
    overrides = load_overrides(settings.reference_dir)
    registry = read_previous_registry(settings.warehouse_dir)
    return resolve_entities(ingested.evidence, reference, settings.match, registry, overrides, run_id), reference


def load(ingested: Ingested, resolution: Resolution, reference: Reference, settings: Settings,
         run_id: str, fiscal_year: int | None = None) -> RunSummary:
    """Build every table (the per-document ones in DuckDB from the staged chunks), publish, and summarise."""
    tables = dimension_tables(resolution, reference)
    run = RunInfo(run_id, datetime.now(UTC), ingested.seen, fiscal_year)
    failures, findings = publish(settings.warehouse_dir, tables, run, ingested.chunks_dir, lookup_tables(resolution))
    summary = RunSummary(run_id, str(settings.raw_dir), str(settings.warehouse_dir), fiscal_year)
    summary.files.update(ingested.files)
    summary.quarantined = list(ingested.quarantined)
    summary.rows = published_row_counts(settings.warehouse_dir)
    summary.findings = findings
    summary.check_failures = sum(f.severity == "error" for f in failures)
    summary.report = str(settings.warehouse_dir.resolve() / REPORT_DIR / "index.html")
    if fiscal_year is not None:
        summary.fiscal_year_projects = projects_in_year(settings.warehouse_dir, fiscal_year)
    return summary
