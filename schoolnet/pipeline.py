"""The stages of one run as plain functions (the Prefect flow wires these; tests call them directly).

Parsing is per document and runs in a process pool, in batches: a worker reads, hashes, decodes and
parses its files, turns their facts into Arrow rows and hands back only what identity resolution needs.
The facts go to disk in chunks as batches arrive; the texts are never held together.
"""

from __future__ import annotations

import ctypes
import fcntl
import multiprocessing
import os
import signal
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from extract.discover import RawFile, SymlinkError, decode_dump, discover_dumps, read_raw
from extract.reference import Reference, load_overrides, load_reference
from load.publish import publish
from load.staging import ChunkWriter
from load.tables import (
    SCHEMAS,
    STAGED_TABLES,
    Columns,
    Quarantined,
    arrow_tables,
    build_tables,
    dump_fact_rows,
    project_key_of,
    slim,
)
from load.warehouse import ParseCache, clean_leftovers, read_previous_ledger, read_previous_registry
from schoolnet.settings import MatchSettings, Settings
from transform.districts import resolve_district
from transform.entities import Resolution, resolve_entities
from transform.parse import parse
from transform.people import title_book
from transform.records import DumpParseError, ParsedDump

# Arrow's default pool keeps freed memory for reuse; the system allocator gives it back (measured:
# peak RSS at 20,000 documents 571 -> 521 MB)
pa.set_memory_pool(pa.system_memory_pool())

PARALLEL_FROM = 64  # below this many files, a process pool costs more than it saves


class RunLockedError(RuntimeError):
    """Another run holds the warehouse."""


@dataclass(frozen=True)
class FileOutcome:
    raw: RawFile
    status: str  # 'loaded', 'quarantined', 'unchanged'
    reason: str | None
    dump: ParsedDump | None  # slimmed: its facts are in the chunks


@dataclass(frozen=True)
class Ingested:
    outcomes: list[FileOutcome]
    chunks_dir: Path


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

    def file_table(self) -> list[dict[str, object]]:
        return [{"status": k, "files": self.files.get(k, 0)} for k in ("loaded", "unchanged", "quarantined")]

    def as_markdown(self) -> str:
        """The summary as the Prefect markdown artifact shows it."""
        lines = [f"# schoolnet run `{self.run_id}`", "",
                 f"Raw dir `{self.raw_dir}` -> warehouse `{self.warehouse_dir}`"
                 + (f", fiscal year {self.fiscal_year} only" if self.fiscal_year else ""), "",
                 "| files | count |", "|---|---|"]
        lines += [f"| {r['status']} | {r['files']} |" for r in self.file_table()]
        if self.quarantined:
            lines += ["", "## Quarantined", ""] + [f"- `{name}`: {reason}" for name, reason in self.quarantined]
        lines += ["", "## Rows per table", "", "| table | rows |", "|---|---|"]
        lines += [f"| {t} | {n} |" for t, n in sorted(self.rows.items())]
        lines += ["", "## Data-quality findings", ""]
        lines += [f"- {k}: {v}" for k, v in sorted(self.findings.items())] or ["- none"]
        lines += ["", f"Borderline identity pairs to review (entity_review): {self.rows.get('entity_review', 0)}"]
        if self.check_failures:
            lines += ["", f"**SQL checks found {self.check_failures} error(s)**: see dq_issue"]
        return "\n".join(lines)

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
        lines.append(f"  borderline identity pairs to review (entity_review): {self.rows.get('entity_review', 0)}")
        if self.check_failures:
            lines.append(f"  SQL checks found {self.check_failures} error(s): see dq_issue")
        return "\n".join(lines)


def progress_bar(done: int, total: int) -> None:
    """A progress bar on stderr for long runs in a terminal."""
    if total < 500 or not sys.stderr.isatty():
        return
    width = 40
    filled = width * done // total
    sys.stderr.write(f"\rparsing [{'#' * filled}{'.' * (width - filled)}] {done}/{total} files")
    if done == total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ") + f"-{os.getpid()}"


@contextmanager
def warehouse_lock(warehouse_dir: Path) -> Iterator[None]:
    """One run at a time per warehouse; a second run stops at once with a clear message. Whatever an
    interrupted run left aside is removed once the lock is held."""
    warehouse_dir.mkdir(parents=True, exist_ok=True)
    with (warehouse_dir / ".run.lock").open("w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise RunLockedError(f"another schoolnet run is writing {warehouse_dir}; try again when it ends") from exc
        try:
            clean_leftovers(warehouse_dir)
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


# -- the worker side ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class WorkerConfig:
    """What a worker process needs to parse batches: sent once per process pool, or with each Dask task."""

    reference_dir: str
    warehouse_dir: str
    match: MatchSettings
    loaded_before: frozenset[tuple[str, str]]
    full_refresh: bool
    max_bytes: int = 20 << 20


_WORKER: dict[str, object] = {}


def _init_worker(config: WorkerConfig) -> None:
    _WORKER.update(config=config, reference=load_reference(Path(config.reference_dir)),
                   titles=title_book(config.reference_dir), match=config.match,
                   cache=ParseCache(Path(config.warehouse_dir)), loaded_before=config.loaded_before,
                   full_refresh=config.full_refresh)


def parse_bytes(source_file: str, data: bytes) -> tuple[str, str | None, ParsedDump | None]:
    """Decode and parse one file: ('loaded', None, dump) or ('quarantined', reason, None), never a crash."""
    decoded = decode_dump(source_file, data)
    if decoded.text is None:
        return "quarantined", decoded.error, None
    try:
        return "loaded", None, parse(decoded.text, source_file, _WORKER["titles"])  # type: ignore[arg-type]
    except DumpParseError as exc:
        return "quarantined", exc.why, None
    except (ValueError, IndexError, KeyError, TypeError, ArithmeticError, RecursionError) as exc:
        return "quarantined", f"parser error: {type(exc).__name__}: {exc}", None


def process_batch(batch: list[tuple[str, Path]], config: WorkerConfig | None = None,
                  ) -> tuple[list[FileOutcome], dict[str, pa.Table]]:
    """Read, hash, parse (or take unchanged from the cache) a batch of files; facts as Arrow tables.

    A worker that has not seen `config` yet (a Dask worker) initialises itself from it."""
    if config is not None and _WORKER.get("config") != config:
        _init_worker(config)
    cache: ParseCache = _WORKER["cache"]  # type: ignore[assignment]
    rows = {name: Columns(name) for name in STAGED_TABLES}
    outcomes = []
    for source_file, path in batch:
        config: WorkerConfig = _WORKER["config"]  # type: ignore[assignment]
        try:
            raw, data = read_raw(source_file, path, config.max_bytes)
        except SymlinkError as exc:
            outcomes.append(FileOutcome(RawFile(source_file, path, "", 0), "quarantined", str(exc), None))
            continue
        except OSError as exc:  # unreadable (permissions, vanished): accounted for, never a crash
            raw = RawFile(source_file, path, "", 0)
            outcomes.append(FileOutcome(raw, "quarantined", f"cannot read the file: {exc.strerror or exc}", None))
            continue
        if data is None:
            outcomes.append(FileOutcome(raw, "quarantined", f"file too large: {raw.size_bytes / 1e6:.1f} MB, over the "
                                        f"{config.max_bytes / 1e6:.0f} MB limit (SCHOOLNET_MAX_FILE_MB)", None))
            continue
        seen = not config.full_refresh and (source_file, raw.content_sha256) in config.loaded_before
        dump = cache.get(raw.content_sha256) if seen else None
        if dump is not None:
            status, reason = "unchanged", None
            if dump.source_file != source_file:
                dump = replace(dump, source_file=source_file)
        else:
            status, reason, dump = parse_bytes(source_file, data)
            if dump is not None:
                cache.put(raw.content_sha256, dump)
        if dump is not None:
            district, _, _ = resolve_district(dump, _WORKER["reference"], _WORKER["match"])  # type: ignore[arg-type]
            key = project_key_of(dump, district.district_id if district else None)
            for name, columns in dump_fact_rows(dump, key).items():
                rows[name].extend(columns)
            dump = slim(dump)
        outcomes.append(FileOutcome(raw, status, reason, dump))
    return outcomes, arrow_tables(rows)


# -- the stages --------------------------------------------------------------------------------------

BatchRunner = Callable[[list[list[tuple[str, Path]]], WorkerConfig],
                       Iterator[tuple[list[FileOutcome], dict[str, pa.Table]]]]


def _init_pool_worker(config: WorkerConfig, parent_pid: int) -> None:
    _die_with_parent(parent_pid)
    _init_worker(config)


def _die_with_parent(parent_pid: int) -> None:
    """A pool worker must not outlive its run: after a SIGKILL of the run it would wait forever on a queue
    that its siblings keep open. Linux kills it with its parent (PR_SET_PDEATHSIG)."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
    if os.getppid() != parent_pid:  # the run died before the request took effect
        os._exit(1)


def _main_is_importable() -> bool:
    """spawned workers re-import the main script; a script read from stdin cannot be (parse in-process)."""
    main_file = getattr(sys.modules.get("__main__"), "__file__", None)
    return main_file is None or os.path.exists(main_file)


def process_pool_runner(workers: int) -> BatchRunner:
    """Batches on a local process pool (in this process when there are few files or one worker)."""
    def run(batches: list[list[tuple[str, Path]]], config: WorkerConfig):
        if sum(len(b) for b in batches) >= PARALLEL_FROM and workers > 1 and _main_is_importable():
            # spawn, not fork: a forked worker would inherit the run lock and hold it after a SIGKILL
            context = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(max_workers=workers, initializer=_init_pool_worker,
                                     initargs=(config, os.getpid()), mp_context=context) as pool:
                yield from pool.map(process_batch, batches)
        else:
            _init_worker(config)
            yield from map(process_batch, batches)
    return run


def ingest(settings: Settings, full_refresh: bool = False, run_id: str | None = None,
           progress: Callable[[int, int], None] | None = None, runner: BatchRunner | None = None) -> Ingested:
    """Every raw file, parsed or taken unchanged from the previous run's cache; facts staged to disk."""
    locations = discover_dumps(settings.raw_dir)
    previous = read_previous_ledger(settings.warehouse_dir)
    loaded_before = frozenset((r["source_file"], r["content_sha256"]) for r in previous.to_pylist()
                              if r["status"] in ("loaded", "unchanged"))
    chunks = ChunkWriter(settings.warehouse_dir / f".chunks-{run_id or new_run_id()}")
    size = settings.batch_size
    batches = [locations[i:i + size] for i in range(0, len(locations), size)]
    config = WorkerConfig(str(settings.reference_dir), str(settings.warehouse_dir), settings.match, loaded_before,
                          full_refresh, settings.max_file_mb << 20)
    outcomes: list[FileOutcome] = []
    report = progress or progress_bar
    for batch_outcomes, tables in (runner or process_pool_runner(settings.workers))(batches, config):
        chunks.write(tables)
        outcomes.extend(batch_outcomes)
        report(len(outcomes), len(locations))
    return Ingested(outcomes, chunks.root)


def resolve(ingested: Ingested, settings: Settings, run_id: str | None = None) -> tuple[Resolution, Reference]:
    """Identities of every parsed dump, keeping the ids of earlier runs and honouring overrides."""
    reference = load_reference(settings.reference_dir)
    overrides = load_overrides(settings.reference_dir)
    registry = read_previous_registry(settings.warehouse_dir)
    dumps = [o.dump for o in ingested.outcomes if o.dump is not None]
    return resolve_entities(dumps, reference, settings.match, registry, overrides, run_id), reference


def load(ingested: Ingested, resolution: Resolution, reference: Reference, settings: Settings,
         run_id: str, fiscal_year: int | None = None) -> RunSummary:
    """Build every table, append this run to the ledger, publish, and summarise."""
    outcomes = ingested.outcomes
    dumps = [o.dump for o in outcomes if o.dump is not None]
    quarantined = [Quarantined(o.raw.source_file, o.raw.content_sha256, o.reason or "")
                   for o in outcomes if o.status == "quarantined"]
    tables, chosen = build_tables(dumps, resolution, reference, quarantined)
    now = datetime.now(UTC)
    ledger_rows = [{"run_id": run_id, "source_file": o.raw.source_file, "content_sha256": o.raw.content_sha256,
                    "status": o.status, "reason": o.reason, "layout": o.dump.layout if o.dump else None,
                    "recorded_at": now} for o in outcomes]
    statuses = Counter(o.status for o in outcomes)
    names = {o.raw.source_file for o in outcomes}
    if len(names) != len(outcomes) or sum(statuses[s] for s in ("loaded", "quarantined", "unchanged")) != len(names):
        raise RuntimeError(f"accounting error: {len(names)} files seen, statuses {dict(statuses)}")
    previous = read_previous_ledger(settings.warehouse_dir)
    tables["ingest_ledger"] = pa.concat_tables([
        previous, pa.Table.from_pylist(ledger_rows, schema=SCHEMAS["ingest_ledger"])])
    failures = publish(settings.warehouse_dir, tables, run_id, fiscal_year, ingested.chunks_dir, chosen)
    summary = RunSummary(run_id, str(settings.raw_dir), str(settings.warehouse_dir), fiscal_year)
    summary.files.update(o.status for o in outcomes)
    summary.quarantined = [(q.source_file, q.reason) for q in quarantined]
    summary.rows = {name: t.num_rows for name, t in tables.items()}
    summary.rows.update(count_published_rows(settings.warehouse_dir))
    summary.rows["dq_issue"] += len(failures)
    summary.findings.update(tables["dq_issue"].column("check_name").to_pylist())
    summary.findings.update(f.check_name for f in failures)
    summary.check_failures = sum(f.severity == "error" for f in failures)
    return summary


def count_published_rows(warehouse_dir: Path) -> dict[str, int]:
    return {name: sum(pq.ParquetFile(p).metadata.num_rows for p in (warehouse_dir / name).rglob("*.parquet"))
            for name in STAGED_TABLES}


def run_once(settings: Settings, fiscal_year: int | None = None, full_refresh: bool = False) -> RunSummary:
    """The whole run without Prefect (the flow runs the same stages as tasks)."""
    run_id = new_run_id()
    with warehouse_lock(settings.warehouse_dir):
        ingested = ingest(settings, full_refresh, run_id)
        resolution, reference = resolve(ingested, settings, run_id)
        return load(ingested, resolution, reference, settings, run_id, fiscal_year)
