"""The stages of one run as plain functions, and their order, stated once: extract and parse -> resolve
identities -> load. The Prefect flow (flows/etl.py) runs each stage as a task; tests and the benchmark call
them directly (run_once), without Prefect."""

from __future__ import annotations

import dataclasses
import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from common.memory import fewer_collections, release_freed_memory
from common.records import Reference
from common.settings import Settings
from extract.discover import scan_files
from extract.documents import OcrSettings
from extract.pull import Landing, PullOptions, pull_source
from extract.reference import load_overrides, load_reference
from extract.sources import Limits, SourceSpec, open_source
from flows.lock import warehouse_lock
from flows.summary import PullSummary, RunSummary, progress_bar
from flows.workers import PARALLEL_FROM, BatchRunner, WorkerConfig, process_pool_runner
from load.assemble import RULE_KEYS, Delta, RunInfo, Sources
from load.layout import current_version, published_changes
from load.publish import CheckFailure, projects_in_year, publish, published_row_counts, republish
from load.report import REPORT_DIR, start_engine
from load.state import STATE_DIR, assembly_fingerprint, last_pulls, read_previous_registry, write_pull_ledger
from load.store import FILE_SCHEMA, Manifest, Plan, Store, new_chunk_id, plan_run, store_fingerprint
from load.tables import WORK_SCHEMAS, dimension_tables, lookup_tables
from transform.entities import Evidence, Resolution, resolve_entities

RUN_FILE_COLUMNS = ("source_file", "content_sha256", "reason", "layout")

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
    """What parsing leaves for the next stages: the store and its plan, the new chunks, the folded evidence
    of every live chunk, this run's file tally."""

    store: Store
    plan: Plan
    new_chunks: list[str]
    evidence: Evidence
    files: Counter = field(default_factory=Counter)  # this run's status -> files
    quarantined: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    seen: int = 0
    evidence_kept: bool = False  # the evidence is the store's total as it was: nothing to fold, nothing to save
    previous: Path | None = None  # the current version, when it was built from this store by this code

    @property
    def nothing_changed(self) -> bool:
        """No file new, changed or gone since the current version, which this store and code built."""
        return self.previous is not None and not self.plan.process and not self.plan.deleted

    @property
    def chunks(self) -> list[str]:
        return [*self.plan.live, *self.new_chunks]


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ") + f"-{os.getpid()}"


def run_stages(settings: Settings, run_id: str, fiscal_year: int | None = None, full_refresh: bool = False,
               step: StepRunner = call, runner: BatchRunner | None = None, verify: bool = False) -> RunSummary:
    """The stages in their order (the caller holds the warehouse lock)."""
    with fewer_collections():
        ingested = step("extract-and-parse", ingest, settings, full_refresh, run_id, None, runner, verify)
        if ingested.nothing_changed and fiscal_year is None:
            return step("carry-over", carry_over, ingested, settings, run_id)
        resolution, reference = step("resolve-entities", resolve, ingested, settings, run_id)
        return step("load-warehouse", load, ingested, resolution, reference, settings, run_id, fiscal_year)


def pull(settings: Settings, specs: list[SourceSpec], run_id: str) -> PullSummary:
    """Fetch every source into the raw dir (the caller holds the warehouse lock); the pull ledger goes to
    the warehouse's state, and into the warehouse at the next publish, also when the pull is stopped midway
    (what landed by then is accounted for)."""
    summary = PullSummary(run_id, str(settings.raw_dir))
    if not specs:
        return summary
    landing = Landing(settings.raw_dir, settings.warehouse_dir / STATE_DIR)
    options = PullOptions(retries=settings.pull_retries, max_bytes=settings.max_file_mb << 20)
    limits = Limits(max_bytes=options.max_bytes, file_deadline_s=settings.pull_deadline_s,
                    listing_deadline_s=settings.pull_deadline_s, max_links=settings.pull_max_files)
    sources = [open_source(s.url, s.name, s.endpoint_url or settings.s3_endpoint_url, settings.pull_timeout_s,
                           limits) for s in specs]
    landing.clean([s.name for s in sources])
    previous = last_pulls(settings.warehouse_dir)
    records: list = []
    try:
        for source in sources:
            done = pull_source(source, landing, previous.get(source.url, {}), options, records=records)
            summary.counts[source.url] = Counter(r.status for r in done)
            summary.failures += [f"{source.url}{r.remote_path}: {r.error}" for r in done if r.status == "failed"]
    finally:
        write_pull_ledger(settings.warehouse_dir, run_id, records, datetime.now(UTC))
    return summary


def run_once(settings: Settings, fiscal_year: int | None = None, full_refresh: bool = False,
             verify: bool = False) -> RunSummary:
    """The whole run without Prefect."""
    with warehouse_lock(settings.warehouse_dir, settings.raw_dir):
        return run_stages(settings, new_run_id(), fiscal_year, full_refresh, verify=verify)


def ingest(settings: Settings, full_refresh: bool = False, run_id: str | None = None,
           progress: Callable[[int, int], None] | None = None, runner: BatchRunner | None = None,
           verify: bool = False) -> Ingested:
    """Every raw file against the document store: unchanged ones (same name, size, mtime, inode; or same
    content when the run verifies) are not read; new and changed ones, and the others of a chunk that held a
    changed or deleted file, are parsed into new chunks. A full refresh starts from an empty store."""
    run_id = run_id or new_run_id()
    listed = scan_files(settings.raw_dir)
    store = Store(settings.warehouse_dir, store_fingerprint(str(settings.reference_dir), repr(settings.match)),
                  fresh=full_refresh)
    store.collect_garbage()  # what a killed run wrote
    plan = plan_run(store, listed, settings.raw_dir, verify)
    names = plan.process
    batches = [(new_chunk_id(run_id, i // settings.batch_size), names[i:i + settings.batch_size])
               for i in range(0, len(names), settings.batch_size)]
    if len(names) < PARALLEL_FROM:  # parsed in this process: the report's chart engine (a child process, ~0.4 s,
        start_engine()  # ~90 MB) starts now; after parsing workers, the report starts it (beside the assembly's
        # peak it would add to the run's)
    evidence = None if plan.retired else store.total_evidence()
    ingested = Ingested(store, plan, [], Evidence(), seen=len(listed), previous=_built_from(store, settings))
    if evidence is None:
        for chunk_id in plan.live:
            ingested.evidence.merge(store.load_evidence(chunk_id))
    else:
        ingested.evidence, ingested.evidence_kept = evidence, not batches
    ingested.files["unchanged"] = sum(s == "loaded" for s in plan.kept.column("status").to_pylist())
    ingested.files["quarantined"] = plan.kept.num_rows - ingested.files["unchanged"]
    ingested.quarantined = _kept_quarantined(plan.kept)
    # scans: each parsing process reads `workers` documents at once, each with its passes at once (a batch of the
    # store is 384 files: a few hundred scans are one batch, so one process, whose tesseracts keep every core busy
    # to a document's last page: measured on 49 pages, 93-96 % of tesseract's own speed)
    ocr = OcrSettings(settings.tesseract, settings.ocr_languages, settings.ocr_passes_psm(), settings.ocr_dpi,
                      settings.max_pdf_pages, settings.ocr_page_timeout_s, threads=len(settings.ocr_passes_psm()))
    config = WorkerConfig(str(settings.raw_dir), str(store.chunks_root), str(settings.reference_dir),
                          settings.match, store.fingerprint, settings.max_file_mb << 20,
                          frozenset(listed.undecodable), ocr, str(store.ocr_root), settings.workers)
    report = progress or progress_bar
    run_batches = runner or process_pool_runner(settings.workers)
    done = 0
    for result in run_batches(batches, len(names), config):
        ingested.new_chunks.append(result.chunk_id)
        ingested.evidence.merge(result.evidence)
        ingested.files.update(result.files)
        ingested.quarantined.extend(result.quarantined)
        done += sum(result.files.values())
        report(done, len(names))
    ingested.quarantined.sort()
    release_freed_memory()  # the listing and the plan's joins are gone; the next stages need the room
    return ingested


def _kept_quarantined(kept: pa.Table) -> list[tuple[str, str]]:
    rows = zip(*(kept.column(c).to_pylist() for c in ("source_file", "status", "reason")), strict=True)
    return [(name, reason or "") for name, status, reason in rows if status == "quarantined"]


def resolve(ingested: Ingested, settings: Settings, run_id: str | None = None) -> tuple[Resolution, Reference]:
    """Identities of the corpus from its folded evidence, keeping the ids of earlier runs and honouring
    overrides."""
    reference = load_reference(settings.reference_dir)
    overrides = load_overrides(settings.reference_dir)
    registry = read_previous_registry(settings.warehouse_dir)
    return resolve_entities(ingested.evidence, reference, settings.match, registry, overrides, run_id), reference


def load(ingested: Ingested, resolution: Resolution, reference: Reference, settings: Settings,
         run_id: str, fiscal_year: int | None = None) -> RunSummary:
    """Build every table from the store (carrying over from the current version what did not change),
    publish, make the store the one the new version was built from, and summarise."""
    tables = dimension_tables(resolution, reference)
    lookups = lookup_tables(resolution, reference)
    run = RunInfo(run_id, datetime.now(UTC), ingested.seen, fiscal_year)
    new_files = _files_of(ingested.store, ingested.new_chunks)
    sources = _sources(ingested, new_files)
    failures, findings, docs = publish(settings.warehouse_dir, tables, run, sources, lookups)
    store = ingested.store
    index = pa.concat_tables([ingested.plan.kept, new_files.drop_columns(["run_status"]).cast(FILE_SCHEMA)])
    manifest = Manifest(store.fingerprint, ingested.chunks, version=run_id, assembly=assembly_fingerprint())
    manifest.files = store.write(f"files-{run_id}.parquet", index.sort_by("source_file"))
    manifest.docs = store.keep(docs)
    manifest.evidence = store.manifest.evidence if ingested.evidence_kept else store.write_pickle(
        f"evidence-{run_id}.pkl", ingested.evidence)
    manifest.rules = store.write_rules(f"rules-{run_id}", {n: lookups[n] for n in RULE_KEYS})
    store.commit(manifest)
    return _summary(ingested, settings, run_id, fiscal_year, failures, findings)


def carry_over(ingested: Ingested, settings: Settings, run_id: str) -> RunSummary:
    """Nothing changed since the current version: it is published again as it is (load.publish.republish),
    with this run's ledger rows; identities are not resolved again (their evidence is the same)."""
    run = RunInfo(run_id, datetime.now(UTC), ingested.seen)
    failures, findings = republish(settings.warehouse_dir, run, _run_files(ingested.plan.kept, _files_of(
        ingested.store, [])))
    store = ingested.store
    files = store.manifest.files
    if ingested.plan.hashed:  # files touched without a change: their new stat is what the next run compares
        files = store.write(f"files-{run_id}.parquet", ingested.plan.kept)
    store.commit(dataclasses.replace(store.manifest, files=files, version=run_id))
    return _summary(ingested, settings, run_id, None, failures, findings)


def _summary(ingested: Ingested, settings: Settings, run_id: str, fiscal_year: int | None,
             failures: list[CheckFailure], findings: Counter[str]) -> RunSummary:
    summary = RunSummary(run_id, str(settings.raw_dir), str(settings.warehouse_dir), fiscal_year)
    summary.files.update({k: v for k, v in ingested.files.items() if v})
    summary.quarantined = list(ingested.quarantined)
    summary.rows = published_row_counts(settings.warehouse_dir)
    summary.findings = findings
    summary.check_failures = sum(f.severity == "error" for f in failures)
    summary.report = str(settings.warehouse_dir.resolve() / REPORT_DIR / "index.html")
    if fiscal_year is not None:
        summary.fiscal_year_projects = projects_in_year(settings.warehouse_dir, fiscal_year)
    return summary


def _built_from(store: Store, settings: Settings) -> Path | None:
    """The current version when this store, and the code of this run, built it (what a run carries over)."""
    previous = current_version(settings.warehouse_dir)
    manifest = store.manifest
    if previous is None or store.empty or manifest.version != previous.name or manifest.assembly != \
            assembly_fingerprint():
        return None
    if published_changes(settings.warehouse_dir):  # a file added or changed in it: nothing of it is carried
        return None
    return previous


def _sources(ingested: Ingested, new_files: pa.Table) -> Sources:
    """Where the new version's rows come from (the store's kept files and the new chunks) and what changed
    since the current version (every partition is written when the store did not build it)."""
    changed = pc.not_equal(new_files.column("run_status"), "unchanged")
    added = frozenset(pc.filter(new_files.column("source_file"), changed).to_pylist())
    previous = ingested.previous
    # rows leave for deleted files and for changed ones that had content before (not for new files: a
    # partition that only gains rows gets an addition instead of a rewrite)
    stored = {name for name, before in ingested.plan.process if before is not None}
    delta = Delta(frozenset(ingested.plan.deleted) | (added & stored), added, full=previous is None)
    return Sources(ingested.store, ingested.chunks, ingested.new_chunks,
                   _run_files(ingested.plan.kept, new_files), delta, previous,
                   current_version(ingested.store.warehouse_dir))


def _run_files(kept: pa.Table, new_files: pa.Table) -> pa.Table:
    """This run's row for every file: a kept file is unchanged (or still quarantined), a parsed one says."""
    kept_status = pc.if_else(pc.equal(kept.column("status"), "loaded"), "unchanged", kept.column("status"))
    return pa.concat_tables([
        pa.table({**{c: kept.column(c) for c in RUN_FILE_COLUMNS}, "status": kept_status}),
        pa.table({**{c: new_files.column(c) for c in RUN_FILE_COLUMNS}, "status": new_files.column("run_status")}),
    ]).select(["source_file", "content_sha256", "status", "reason", "layout"])


def _files_of(store: Store, chunks: list[str]) -> pa.Table:
    """The files of the given chunks as the workers recorded them, with their chunk."""
    tables = []
    for chunk_id in chunks:
        table = pq.read_table(store.chunk_dir(chunk_id) / "stg_files.parquet", schema=WORK_SCHEMAS["stg_files"])
        tables.append(table.append_column("chunk_id", pa.array([chunk_id] * table.num_rows, pa.string())))
    if not tables:
        empty = WORK_SCHEMAS["stg_files"].empty_table()
        return empty.append_column("chunk_id", pa.array([], pa.string()))
    return pa.concat_tables(tables)
