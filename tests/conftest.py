"""Shared fixtures. Prefect starts only in flow tests, through one session-wide test harness."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT.parent / "shared" / "seeds"
REFERENCE = ROOT / "data" / "reference"
SAMPLE_RAW = ROOT / "data" / "raw"

_PREFECT_HOME = tempfile.mkdtemp(prefix="schoolnet-prefect-")
os.environ.setdefault("PREFECT_HOME", _PREFECT_HOME)
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")


def seed_path(name: str) -> Path:
    if not SEEDS.is_dir():
        pytest.skip(f"real seed dumps not found at {SEEDS} (../shared/seeds beside the repo)")
    return SEEDS / name


@pytest.fixture(scope="session")
def titles():
    from transform.people import title_book

    return title_book(str(REFERENCE))


@pytest.fixture(scope="session")
def reference():
    from extract.reference import load_reference

    return load_reference(REFERENCE)


@pytest.fixture(scope="session")
def prefect_harness():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield
