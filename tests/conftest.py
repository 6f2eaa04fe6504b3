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
def prefect_server(tmp_path_factory):
    """One real Prefect server (`prefect server start`, its scheduler included) for every flow test; the
    in-process flow runs of the tests and the processes they start (serve, trigger) all talk to it."""
    from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_URL, temporary_settings

    from tests.flows.prefect_server import start_server

    server = start_server(tmp_path_factory.mktemp("prefect-home"))
    keys = ("PREFECT_API_URL", "PREFECT_API_AUTH_STRING")
    previous = {k: os.environ.get(k) for k in keys}
    os.environ.update({k: server.env[k] for k in keys})
    try:
        with temporary_settings(updates={PREFECT_API_URL: server.url,
                                         PREFECT_API_AUTH_STRING: server.env["PREFECT_API_AUTH_STRING"]}):
            yield server
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        server.stop()
