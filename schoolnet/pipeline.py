"""The stages of one run as plain functions (the Prefect flow wires these; tests call them directly).

Parsing is per document and runs in a process pool, in batches: a worker reads, hashes, decodes and
parses its files, turns everything each document contributes into Arrow rows (facts, its project,
findings, the spellings it mentions, its ledger entry) and folds what identity resolution needs into
bounded tallies (load/staging.py, transform/entities.py). The rows go to disk in chunks as batches
arrive; neither texts nor per-document records are held: memory does not grow with the corpus.
"""

from __future__ import annotations

import ctypes
import fcntl
import hashlib
import multiprocessing
import os
import signal
import sys
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from common.records import DumpParseError, ParsedDump, Reference
from common.settings import MatchSettings, Settings
from extract.discover import SymlinkError, decode_dump, discover_files, read_raw
from extract.reference import load_overrides, load_reference
from load.assemble import RunInfo
from load.publish import current_version, publish
from load.staging import new_rows, stage_document, write_chunk
from load.tables import arrow_tables, dimension_tables, lookup_tables
from load.warehouse import ParseCache, clean_leftovers, loaded_in_last_run, read_previous_registry
from transform.districts import resolve_district
from transform.entities import Evidence, Resolution, person_pins, resolve_entities
from transform.parse import parse
from transform.people import title_book

# Arrow's default pool keeps freed memory for reuse; the system allocator gives it back (measured:
# peak RSS at 20,000 documents 571 -> 521 MB)
pa.set_memory_pool(pa.system_memory_pool())

PARALLEL_FROM = 64  # below this many files, a process pool costs more than it saves


class RunLockedError(RuntimeError):
    """Another run holds the warehouse."""


@dataclass
class Ingested:
    """What parsing leaves for the next stages: the staged chunks, the folded evidence, the file tally."""

    chunks_dir: Path
    evidence: Evidence
    files: Counter = field(default_factory=Counter)  # status -> files
    quarantined: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    seen: int = 0


Batch = tuple[int, list[str]]  # (chunk number, files named relative to the raw dir)


@dataclass
class BatchResult:
    """One batch parsed by a worker, whose rows are already staged on disk: its share of the evidence."""

    evidence: Evidence
    files: Counter
    quarantined: list[tuple[str, str]]


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
    fiscal_year_projects: int | None = None  # projects of the re-run fiscal year (None: a full run)

    @property
    def year_note(self) -> str | None:
        """What a re-run of one fiscal year with nothing in it must say (it rebuilds no partition)."""
        if self.fiscal_year is not None and not self.fiscal_year_projects:
            return f"no documents for fiscal year {self.fiscal_year}: nothing to rebuild, other years unchanged"
        return None

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
        if self.year_note:
            lines += ["", f"**{self.year_note}**"]
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
        if self.year_note:
            lines.append(f"  {self.year_note}")
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


_HELD_LOCKS: set[str] = set()  # warehouse dirs whose lock this process holds


@contextmanager
def warehouse_lock(warehouse_dir: Path) -> Iterator[None]:
    """One run at a time per warehouse; a second run stops at once with a clear message. Whatever an
    interrupted run left aside is removed once the lock is held.

    Re-entrant within a process: the CLI takes the lock before Prefect starts (a busy warehouse is then
    one line, with no Prefect output before it), and the flow it calls takes it again."""
    warehouse_dir.mkdir(parents=True, exist_ok=True)
    key = str(warehouse_dir.resolve())
    if key in _HELD_LOCKS:
        yield
        return
    with (warehouse_dir / ".run.lock").open("w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise RunLockedError(f"another schoolnet run is writing {warehouse_dir}; try again when it ends") from exc
        _HELD_LOCKS.add(key)
        try:
            clean_leftovers(warehouse_dir)
            yield
        finally:
            _HELD_LOCKS.discard(key)
            fcntl.flock(fh, fcntl.LOCK_UN)


# -- the worker side ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class WorkerConfig:
    """What a worker process needs to parse batches: sent once per process pool, or with each Dask task."""

    raw_dir: str
    chunks_dir: str
    reference_dir: str
    warehouse_dir: str
    match: MatchSettings
    loaded_before: frozenset[int]  # file_fingerprint() of each file the last run loaded
    full_refresh: bool
    max_bytes: int = 20 << 20


_WORKER: dict[str, object] = {}


def _init_worker(config: WorkerConfig) -> None:
    _WORKER.update(config=config, reference=load_reference(Path(config.reference_dir)),
                   titles=title_book(config.reference_dir),
                   pins=person_pins(load_overrides(Path(config.reference_dir))),
                   cache=ParseCache(Path(config.warehouse_dir)))


def file_fingerprint(source_file: str, content_sha256: str) -> int:
    """A file name with its content, in 8 bytes (a collision could only mislabel 'loaded' as 'unchanged':
    the parse itself is found by the content's own hash)."""
    digest = hashlib.blake2b(f"{source_file}\x1f{content_sha256}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


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


def process_batch(batch: Batch, config: WorkerConfig | None = None) -> BatchResult:
    """Read, hash, parse (or take from the parse cache) a batch of files and stage their rows as one chunk;
    what comes back is only the batch's evidence and tally (rows never travel between processes).

    A worker that has not seen `config` yet (a Dask worker) initialises itself from it."""
    if config is not None and _WORKER.get("config") != config:
        _init_worker(config)
    config = _WORKER["config"]  # type: ignore[assignment]
    cache: ParseCache = _WORKER["cache"]  # type: ignore[assignment]
    rows = new_rows()
    evidence = Evidence()
    files: Counter = Counter()
    quarantined: list[tuple[str, str]] = []
    raw_dir = Path(config.raw_dir)
    number, names = batch
    for source_file in names:
        status, reason, sha, dump = _read_and_parse(source_file, raw_dir / source_file, config, cache)
        if dump is not None:
            district, aliases, findings = resolve_district(dump, _WORKER["reference"], config.match)  # type: ignore[arg-type]
            people = evidence.add_document(dump, district.district_id if district else None,
                                           _WORKER["pins"])  # type: ignore[arg-type]
            stage_document(rows, dump, district, aliases, findings, people)
        rows["stg_ledger"].add(source_file=source_file, content_sha256=sha, status=status, reason=reason,
                               layout=dump.layout if dump else None)
        files[status] += 1
        if status == "quarantined":
            quarantined.append((source_file, reason or ""))
    write_chunk(Path(config.chunks_dir), number, arrow_tables(rows))
    return BatchResult(evidence, files, quarantined)


def _read_and_parse(source_file: str, path: Path, config: WorkerConfig, cache: ParseCache,
                    ) -> tuple[str, str | None, str, ParsedDump | None]:
    """(status, reason, content hash, dump): a file that cannot be read or parsed is quarantined with why."""
    try:
        raw, data = read_raw(source_file, path, config.max_bytes)
    except SymlinkError as exc:
        return "quarantined", str(exc), "", None
    except OSError as exc:  # unreadable (permissions, vanished): accounted for, never a crash
        return "quarantined", f"cannot read the file: {exc.strerror or exc}", "", None
    if data is None:
        return ("quarantined", f"file too large: {raw.size_bytes / 1e6:.1f} MB, over the "
                f"{config.max_bytes / 1e6:.0f} MB limit (SCHOOLNET_MAX_FILE_MB)", raw.content_sha256, None)
    seen = file_fingerprint(source_file, raw.content_sha256) in config.loaded_before
    dump = None if config.full_refresh else cache.get(raw.content_sha256)
    if dump is not None and dump.source_file == source_file:
        return ("unchanged" if seen else "loaded"), None, raw.content_sha256, dump
    status, reason, dump = parse_bytes(source_file, data)
    if dump is not None:
        cache.put(raw.content_sha256, dump)
    return status, reason, raw.content_sha256, dump


# -- the stages --------------------------------------------------------------------------------------

BatchRunner = Callable[[Iterable[Batch], int, WorkerConfig], Iterator[BatchResult]]  # batches, files, config


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
    def run(batches: Iterable[Batch], files: int, config: WorkerConfig):
        if files >= PARALLEL_FROM and workers > 1 and _main_is_importable():
            # spawn, not fork: a forked worker would inherit the run lock and hold it after a SIGKILL
            context = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(max_workers=workers, initializer=_init_pool_worker,
                                     initargs=(config, os.getpid()), mp_context=context) as pool:
                # a few batches in flight, results taken in order: finished batches never pile up in
                # memory when this process falls behind its workers (pool.map would submit them all)
                pending: deque = deque()
                for batch in batches:
                    pending.append(pool.submit(process_batch, batch))
                    if len(pending) > 2 * workers:
                        yield pending.popleft().result()
                while pending:
                    yield pending.popleft().result()
        else:
            _init_worker(config)
            yield from map(process_batch, batches)
    return run


def ingest(settings: Settings, full_refresh: bool = False, run_id: str | None = None,
           progress: Callable[[int, int], None] | None = None, runner: BatchRunner | None = None) -> Ingested:
    """Every raw file, parsed or taken unchanged from the parse cache; its rows staged to disk."""
    files = discover_files(settings.raw_dir)
    loaded_before = frozenset(file_fingerprint(f, sha) for f, sha in loaded_in_last_run(settings.warehouse_dir))
    chunks = settings.warehouse_dir / f".chunks-{run_id or new_run_id()}"
    chunks.mkdir(parents=True, exist_ok=True)
    config = WorkerConfig(str(settings.raw_dir), str(chunks), str(settings.reference_dir),
                          str(settings.warehouse_dir), settings.match, loaded_before, full_refresh,
                          settings.max_file_mb << 20)
    ingested = Ingested(chunks, Evidence(), seen=len(files))
    report = progress or progress_bar
    done = 0
    for result in (runner or process_pool_runner(settings.workers))(files.batches(settings.batch_size), len(files),
                                                                    config):
        ingested.evidence.merge(result.evidence)
        ingested.files.update(result.files)
        ingested.quarantined.extend(result.quarantined)
        done += sum(result.files.values())
        report(done, len(files))
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
    summary.rows = count_published_rows(settings.warehouse_dir)
    summary.findings = findings
    summary.check_failures = sum(f.severity == "error" for f in failures)
    if fiscal_year is not None:
        summary.fiscal_year_projects = projects_in_year(settings.warehouse_dir, fiscal_year)
    return summary


def projects_in_year(warehouse_dir: Path, fiscal_year: int) -> int:
    """dim_project rows of one fiscal year in the current version."""
    version = current_version(warehouse_dir)
    if version is None:
        return 0
    years = pq.read_table(version / "dim_project", columns=["fiscal_year"]).column("fiscal_year")
    return pc.sum(pc.equal(years, fiscal_year)).as_py() or 0


def count_published_rows(warehouse_dir: Path) -> dict[str, int]:
    """Rows per table of the current version, from the Parquet footers."""
    version = current_version(warehouse_dir)
    if version is None:
        return {}
    return {table.name: sum(pq.ParquetFile(p).metadata.num_rows for p in table.rglob("*.parquet"))
            for table in sorted(version.iterdir()) if table.is_dir() and not table.name.startswith(".")}


def run_once(settings: Settings, fiscal_year: int | None = None, full_refresh: bool = False) -> RunSummary:
    """The whole run without Prefect (the flow runs the same stages as tasks)."""
    run_id = new_run_id()
    with warehouse_lock(settings.warehouse_dir):
        ingested = ingest(settings, full_refresh, run_id)
        resolution, reference = resolve(ingested, settings, run_id)
        return load(ingested, resolution, reference, settings, run_id, fiscal_year)
