"""One run at a time per warehouse: an exclusive lock on <warehouse>/.run.lock, taken before anything is
read and held until the run has published (or failed); and never a run in a folder that is not a warehouse:
a typo in --warehouse-dir must not clean someone's folder."""

from __future__ import annotations

import fcntl
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from load.layout import CURRENT, DUCKDB_FILE, MARKER, STATE_DIR, VERSIONS
from load.report import REPORT_DIR
from load.state import clean_leftovers
from load.tables import SCHEMAS

LOCK_FILE = ".run.lock"
_HELD: set[str] = set()  # warehouse dirs whose lock this process holds


class RunLockedError(RuntimeError):
    """Another run holds the warehouse."""


class NotAWarehouseError(ValueError):
    """The folder named as the warehouse holds something else (or lies inside the raw dir)."""


def claim_warehouse(warehouse_dir: Path, raw_dir: Path | None = None) -> None:
    """Make sure a run may write into warehouse_dir: a new or empty folder becomes a warehouse (its marker is
    written), a schoolnet warehouse stays one, anything else is refused with one line, as is a warehouse
    inside the raw dir (its files would be ingested) or a raw dir inside the warehouse."""
    folder = warehouse_dir.resolve()
    if raw_dir is not None:
        raw = raw_dir.resolve()
        if folder == raw or raw in folder.parents or folder in raw.parents:
            raise NotAWarehouseError(f"the warehouse {warehouse_dir} and the raw dir {raw_dir} overlap: give them "
                                     "folders apart (a warehouse inside the raw dir would be read as raw dumps)")
    if (folder / MARKER).is_file():
        return
    if folder.exists() and not folder.is_dir():
        raise NotAWarehouseError(f"{warehouse_dir} is a file, not a warehouse folder")
    if folder.exists() and any(p.name != LOCK_FILE for p in folder.iterdir()) and not _written_by_schoolnet(folder):
        raise NotAWarehouseError(f"{warehouse_dir} is neither empty nor a schoolnet warehouse (it has no {MARKER}): "
                                 "nothing was written; give an empty or a new folder")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MARKER).write_text(json.dumps({"schoolnet": "warehouse", "since": datetime.now(UTC).isoformat()})
                                 + "\n", encoding="utf-8")


def _written_by_schoolnet(folder: Path) -> bool:
    """A warehouse written before the marker was: its state folder, and nothing but what a run or a pull
    writes there."""
    ours = {CURRENT, VERSIONS, STATE_DIR, DUCKDB_FILE, LOCK_FILE, REPORT_DIR, *SCHEMAS}
    names = [p.name for p in folder.iterdir()]
    return (folder / STATE_DIR).is_dir() and all(n in ours or n.startswith((f"{DUCKDB_FILE}.", f".{DUCKDB_FILE}.",
                                                                            f".{CURRENT}.")) for n in names)


@contextmanager
def warehouse_lock(warehouse_dir: Path, raw_dir: Path | None = None) -> Iterator[None]:
    """The warehouse's lock; a second run stops at once with a clear message. Whatever an interrupted
    run left aside is removed once the lock is held.

    Re-entrant within a process: the CLI takes the lock before Prefect starts (a busy warehouse is then
    one line, with no Prefect output before it), and the flow it calls takes it again. A lock is released
    by the kernel when its process dies, even by SIGKILL."""
    key = str(warehouse_dir.resolve())
    if key in _HELD:
        yield
        return
    claim_warehouse(warehouse_dir, raw_dir)
    with (warehouse_dir / LOCK_FILE).open("w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise RunLockedError(f"another schoolnet run is writing {warehouse_dir}; try again when it ends") from exc
        _HELD.add(key)
        try:
            clean_leftovers(warehouse_dir)
            yield
        finally:
            _HELD.discard(key)
            fcntl.flock(fh, fcntl.LOCK_UN)
