"""One run at a time per warehouse: an exclusive lock on <warehouse>/.run.lock, taken before anything is
read and held until the run has published (or failed)."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from load.state import clean_leftovers

LOCK_FILE = ".run.lock"
_HELD: set[str] = set()  # warehouse dirs whose lock this process holds


class RunLockedError(RuntimeError):
    """Another run holds the warehouse."""


@contextmanager
def warehouse_lock(warehouse_dir: Path) -> Iterator[None]:
    """The warehouse's lock; a second run stops at once with a clear message. Whatever an interrupted
    run left aside is removed once the lock is held.

    Re-entrant within a process: the CLI takes the lock before Prefect starts (a busy warehouse is then
    one line, with no Prefect output before it), and the flow it calls takes it again. A lock is released
    by the kernel when its process dies, even by SIGKILL."""
    warehouse_dir.mkdir(parents=True, exist_ok=True)
    key = str(warehouse_dir.resolve())
    if key in _HELD:
        yield
        return
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
