"""Giving freed memory back to the system between the stages of a run, and collecting cycles less often.

glibc's malloc keeps what Python and Arrow free in its arenas for reuse; after a stage that built and
dropped large tables (a 100,000-file listing joined with the store's index), that memory stays in the
process's RSS for the rest of the run. malloc_trim hands it back (measured: 60 MB after planning at
100,000 documents). Elsewhere than glibc it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

# objects allocated (net) before Python's cycle collector runs: 700 by default, which made a nightly run on a
# 100,000-document history collect ~500 times, traversing the run's long-lived evidence (0.24 s of 4.4 s;
# 0.04 s at 10,000). Cycles are rare here: refcounting frees nearly everything.
YOUNG_COLLECTION_THRESHOLD = 10_000


@lru_cache(maxsize=1)
def _malloc_trim():  # a ctypes function, or None
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc.malloc_trim
    except (OSError, AttributeError):  # not glibc (musl has no malloc_trim)
        return None


def release_freed_memory() -> None:
    """Return the allocator's free memory to the system (a no-op where that is not possible)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def collect_less() -> None:
    """Run the cycle collector after YOUNG_COLLECTION_THRESHOLD allocations instead of 700 (a parsing
    worker: a process of its own)."""
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, *gc.get_threshold()[1:])


@contextmanager
def fewer_collections() -> Iterator[None]:
    """collect_less() for a run, the process's setting back after it (a served process runs many)."""
    before = gc.get_threshold()
    collect_less()
    try:
        yield
    finally:
        gc.set_threshold(*before)
