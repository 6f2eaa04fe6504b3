"""Parsing workers: batches of files read, hashed, parsed and staged as chunks of the document store
(load/store.py), on a local process pool or as Prefect tasks on a Dask cluster.

A worker turns everything each document contributes into Arrow rows (facts, its project, findings, the
spellings it mentions, its file's hash and stat), writes them with the batch's folded identity evidence as
one chunk, and returns only the evidence and the file tally: rows never travel between processes, and
neither texts nor per-document records are held.
"""

from __future__ import annotations

import ctypes
import functools
import multiprocessing
import os
import signal
import sys
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from common.memory import collect_less
from common.records import ParsedDump, Reference
from common.settings import MatchSettings
from extract.discover import RawFile, SymlinkError, decode_dump, lstat_shown, read_raw
from extract.documents import DocumentError, OcrSettings, read_document, sniff
from extract.reference import load_overrides, load_reference
from load.staging import new_rows, stage_document, write_chunk
from load.tables import arrow_tables
from transform.agencies import place
from transform.entities import Evidence, person_pins
from transform.parse import parse_or_quarantine
from transform.people import TitleBook, title_book
from transform.scanned import parse_document

DOCUMENT_SUFFIXES = (".pdf", ".png", ".jpg", ".jpeg", ".tif", ".tiff")
PARALLEL_FROM = 64  # below this many files, a process pool costs more than it saves
QUEUED_PER_READER = 4  # documents submitted ahead per reading thread of a batch (results are taken in order)
# (chunk id, [(file named relative to the raw dir, the content hash the store had for it, or None)])
Batch = tuple[str, list[tuple[str, str | None]]]
UNREADABLE = -1  # the stat kept for a file that could not be read: it never matches, the file is tried again


@dataclass(frozen=True)
class WorkerConfig:
    """What a worker process needs to parse batches: sent once per process pool, or with each Dask task."""

    raw_dir: str
    chunks_dir: str  # the store's chunks folder: a batch becomes <chunks_dir>/<chunk id>/
    reference_dir: str
    match: MatchSettings
    fingerprint: str  # the store's (load/store.py): a process keeps what it loaded only for the same inputs
    max_bytes: int = 20 << 20
    undecodable: frozenset[str] = frozenset()  # listed names (bytes escaped) that are not valid UTF-8
    ocr: OcrSettings = OcrSettings()
    ocr_cache_dir: str | None = None  # the store's OCR texts (<store>/ocr/<sha256>-<settings>.json)
    documents_at_once: int = 1  # PDF files and scans read at once by one process (ocr.threads tesseracts each)


@dataclass
class BatchResult:
    """One batch parsed by a worker, whose rows are already in its chunk: its share of the evidence."""

    chunk_id: str
    evidence: Evidence
    files: Counter  # this run's status -> files
    quarantined: list[tuple[str, str]]


@dataclass
class _WorkerState:
    """What a worker process loads once and keeps for all its batches."""

    config: WorkerConfig
    reference: Reference
    titles: TitleBook
    pins: dict[str, dict[str, str]]

    @classmethod
    def of(cls, config: WorkerConfig) -> _WorkerState:
        reference_dir = Path(config.reference_dir)
        return cls(config, load_reference(reference_dir), title_book(config.reference_dir),
                   person_pins(load_overrides(reference_dir)))


_STATE: _WorkerState | None = None  # this process's: set by the pool's initializer, or by a Dask task


def _state(config: WorkerConfig | None = None) -> _WorkerState:
    global _STATE
    if config is not None and (_STATE is None or _STATE.config != config):
        _STATE = _WorkerState.of(config)
    if _STATE is None:
        raise RuntimeError("a parsing worker was given a batch before its configuration")
    return _STATE


@dataclass(frozen=True)
class _Outcome:
    """A file as a worker found it: what the store keeps (status, reason, hash, stat) and its parse."""

    status: str  # 'loaded' or 'quarantined'
    reason: str | None
    raw: RawFile | None
    dump: ParsedDump | None = None


def process_batch(batch: Batch, config: WorkerConfig | None = None) -> BatchResult:
    """Read, hash and parse a batch of files and write their rows and evidence as one chunk of the store.

    A worker that has not seen `config` yet (a Dask worker) initialises itself from it."""
    state = _state(config)
    rows = new_rows()
    evidence = Evidence()
    files: Counter = Counter()
    quarantined: list[tuple[str, str]] = []
    chunk_id, names = batch
    for (source_file, stored_sha), found in zip(names, _outcomes(names, state), strict=True):
        if found.dump is not None:
            placement = place(found.dump, state.reference, state.config.match)
            people = evidence.add_document(found.dump, placement.district_id, state.pins, placement.home)
            stage_document(rows, found.dump, placement, people)
        raw = found.raw
        sha = raw.content_sha256 if raw else ""
        run_status = found.status if found.status == "quarantined" or sha != stored_sha else "unchanged"
        rows["stg_files"].add(source_file=source_file, content_sha256=sha, size_bytes=raw.size_bytes if raw else
                              UNREADABLE, mtime_ns=raw.mtime_ns if raw else UNREADABLE, inode=raw.inode if raw else
                              UNREADABLE, status=found.status, reason=found.reason,
                              layout=found.dump.layout if found.dump else None, run_status=run_status)
        files[run_status] += 1
        if found.status == "quarantined":
            quarantined.append((source_file, found.reason or ""))
    write_chunk(Path(state.config.chunks_dir) / chunk_id, arrow_tables(rows), evidence)
    return BatchResult(chunk_id, evidence, files, quarantined)


def _outcomes(names: list[tuple[str, str | None]], state: _WorkerState) -> Iterator[_Outcome]:
    """Each file read and parsed, in order. A batch with PDF files or scans reads `documents_at_once` files at
    a time (OCR is tesseract's work, in processes of its own: the cores stay busy across documents, with no
    wait at each document's end); a few outcomes ahead, never the whole batch in memory."""
    at_once = state.config.documents_at_once
    if at_once <= 1 or not any(name.lower().endswith(DOCUMENT_SUFFIXES) for name, _ in names):
        yield from (_read_and_parse(name, state) for name, _ in names)
        return
    with ThreadPoolExecutor(max_workers=at_once) as pool:  # a few queued: a long scan never leaves a core idle
        yield from in_order(pool, lambda name: _read_and_parse(name, state), (name for name, _ in names),
                            QUEUED_PER_READER * at_once)


def in_order(pool: Executor, work: Callable, items: Iterable, ahead: int) -> Iterator:
    """work(item) for each item on `pool`, results in the items' order, at most `ahead` + 1 in flight: finished
    results never pile up in memory when the caller falls behind the pool (pool.map would submit them all)."""
    pending: deque = deque()
    for item in items:
        pending.append(pool.submit(work, item))
        if len(pending) > ahead:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def _read_and_parse(source_file: str, state: _WorkerState) -> _Outcome:
    """A file that cannot be read or parsed is quarantined with why."""
    config = state.config
    if source_file in config.undecodable:  # its stat kept: the next run finds it unchanged, still quarantined
        st = lstat_shown(Path(config.raw_dir), source_file)
        raw = RawFile(source_file, Path(config.raw_dir) / source_file, "", st.st_size, st.st_mtime_ns,
                      st.st_ino) if st else None
        return _Outcome("quarantined", "the file name is not valid UTF-8 (its bytes are shown escaped; a "
                        "Windows-874 name from a file share?): not read; rename it in UTF-8 to load it", raw)
    try:
        raw, data = read_raw(Path(config.raw_dir), source_file, config.max_bytes)
    except SymlinkError as exc:
        return _Outcome("quarantined", str(exc), None)
    except OSError as exc:  # unreadable (permissions, vanished): accounted for, never a crash
        return _Outcome("quarantined", f"cannot read the file: {exc.strerror or exc}", None)
    if data is None:
        return _Outcome("quarantined", f"file too large: {raw.size_bytes / (1 << 20):.1f} MiB, over the "
                        f"{config.max_bytes >> 20} MiB limit (SCHOOLNET_MAX_FILE_MB)", raw)
    if sniff(data) is not None:  # a PDF or a scan: read as text first (the passes of OCR are its renderings)
        return _read_document(data, raw, state)
    decoded = decode_dump(source_file, data)
    if decoded.text is None:
        return _Outcome("quarantined", decoded.error, raw)
    dump, reason = parse_or_quarantine(decoded.text, source_file, state.titles)
    if dump is None:
        return _Outcome("quarantined", reason, raw)
    return _Outcome("loaded", None, raw, dump)


def _read_document(data: bytes, raw: RawFile, state: _WorkerState) -> _Outcome:
    config = state.config
    try:
        document = read_document(data, raw.content_sha256, config.ocr,
                                 Path(config.ocr_cache_dir) if config.ocr_cache_dir else None)
    except DocumentError as exc:
        if exc.retry:  # kept with a stat and hash that match nothing: the next run tries the file again
            raw = RawFile(raw.source_file, raw.path, "", raw.size_bytes, UNREADABLE, UNREADABLE)
        return _Outcome("quarantined", str(exc), raw)
    dump, reason = parse_or_quarantine(document.passes, raw.source_file, state.titles,
                                       functools.partial(parse_document, confidences=document.confidences))
    if dump is None:
        return _Outcome("quarantined", reason, raw)
    return _Outcome("loaded", None, raw, dump)


# -- running batches ---------------------------------------------------------------------------------

BatchRunner = Callable[[Iterable[Batch], int, WorkerConfig], Iterator[BatchResult]]  # batches, files, config


def _init_pool_worker(config: WorkerConfig, parent_pid: int) -> None:
    _die_with_parent(parent_pid)
    sys.meta_path.insert(0, _NoPandas)
    collect_less()
    _state(config)


class _NoPandas:
    """pyarrow imports pandas the first time it converts Python objects (pa.table, pa.array), only to ask
    whether they are pandas objects; a parsing worker never holds one. Refused in the pool's workers (not in
    a Dask worker, which needs pandas): measured -30 MB per worker (170 -> 140 MB) and 0.25 s per start."""

    @staticmethod
    def find_spec(name: str, path: object = None, target: object = None) -> None:
        if name == "pandas" or name.startswith("pandas."):
            raise ImportError("pandas is not imported in a parsing worker (flows/workers.py)")
        return None


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
    def run(batches: Iterable[Batch], files: int, config: WorkerConfig) -> Iterator[BatchResult]:
        if files >= PARALLEL_FROM and workers > 1 and _main_is_importable():
            yield from _on_a_pool(batches, workers, config)
        else:
            _state(config)
            yield from map(process_batch, batches)
    return run


def _on_a_pool(batches: Iterable[Batch], workers: int, config: WorkerConfig) -> Iterator[BatchResult]:
    # spawn, not fork: a forked worker would inherit the run lock and hold it after a SIGKILL
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, initializer=_init_pool_worker,
                             initargs=(config, os.getpid()), mp_context=context) as pool:
        yield from in_order(pool, process_batch, batches, 2 * workers)  # a few batches in flight
