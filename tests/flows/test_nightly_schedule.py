"""The nightly deployment the way an operator meets it: the real Prefect server (scheduler included),
`schoolnet serve` as a process of its own, runs created by the server's scheduler (never by hand), and
stops by SIGTERM that leave no run in flight and no concurrency slot taken.

This is the test that would have caught SQLAlchemy 2.1 breaking the scheduler: with it, no scheduled run
is ever created and the server logs an ERROR every minute."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from load.door import open_warehouse
from tests.conftest import SAMPLE_RAW
from tests.flows.prefect_server import BIN, PrefectServer, run_async

pytestmark = pytest.mark.flow
BANGKOK = ZoneInfo("Asia/Bangkok")


class Serve:
    """`schoolnet serve` in a process of its own, its output in a file."""

    def __init__(self, server: PrefectServer, raw: Path, warehouse: Path, log: Path, cron: str | None = None,
                 env: dict[str, str] | None = None):
        self.log = log
        args = [str(BIN / "schoolnet"), "serve", "--raw-dir", str(raw), "--warehouse-dir", str(warehouse)]
        args += ["--cron", cron] if cron else []
        with log.open("ab") as fh:
            self.process = subprocess.Popen(args, env={**server.env, **(env or {})}, stdout=fh,
                                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def serving(self, timeout_s: float = 90):
        """The deployment once this serve registered it and handles signals (its "serving" line): a deployment
        left by an earlier serve on the same server proves nothing about this one."""
        def ready():
            if self.process.poll() is not None:
                raise AssertionError(f"serve exited {self.process.returncode}:\n{self.output()[-3000:]}")
            return "serving schoolnet-etl/nightly" in self.output() and _deployment_or_none()
        return wait_until("serve to be serving", ready, timeout_s, poll_s=0.2)

    def stop(self, sig: int = signal.SIGTERM, timeout_s: float = 60) -> int:
        self.process.send_signal(sig)
        return self.process.wait(timeout=timeout_s)


# -- the API, through Prefect's own client ------------------------------------------------------------

async def _deployment():
    from prefect.client.orchestration import get_client

    async with get_client() as client:
        return await client.read_deployment_by_name("schoolnet-etl/nightly")


async def _runs(deployment_id):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId
    from prefect.client.schemas.sorting import FlowRunSort

    async with get_client() as client:
        return await client.read_flow_runs(
            deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id])),
            sort=FlowRunSort.EXPECTED_START_TIME_ASC, limit=200)


async def _artifacts(flow_run_id):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    async with get_client() as client:
        return await client.read_artifacts(artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(
            any_=[flow_run_id])))


async def _make_orphan(deployment_id):
    """A run that took the deployment's concurrency slot (Pending, then Running, through the server's
    orchestration) and that no process runs: what a SIGKILLed serve leaves behind."""
    from prefect.client.orchestration import get_client
    from prefect.states import Pending, Running

    async with get_client() as client:
        run = await client.create_flow_run_from_deployment(deployment_id)
        for state in (Pending(), Running()):
            result = await client.set_flow_run_state(run.id, state)
            assert result.status.value == "ACCEPT", result
        return run


def wait_until(what: str, check, timeout_s: float, poll_s: float = 0.5):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(poll_s)
    raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")


def _deployment_or_none():
    from prefect.exceptions import ObjectNotFound

    try:
        return run_async(_deployment())
    except ObjectNotFound:
        return None


def _clean_stop_output(text: str) -> None:
    for bad in ("Traceback", "never awaited", "CancelledError"):
        assert bad not in text, f"{bad!r} in serve's output:\n{text[-4000:]}"


def _sample_raw(tmp_path: Path) -> Path:
    raw = tmp_path / "raw"
    shutil.copytree(SAMPLE_RAW, raw)
    return raw


# -- the tests ----------------------------------------------------------------------------------------

def test_serve_registers_the_nightly_deployment_and_the_scheduler_plans_02_00_bangkok(prefect_server, tmp_path):
    serve = Serve(prefect_server, _sample_raw(tmp_path), tmp_path / "wh", tmp_path / "serve.log")
    try:
        deployment = serve.serving()
        assert deployment.parameter_openapi_schema["properties"]["fiscal_year"]["anyOf"]
        runs = wait_until("3 runs from the scheduler",
                          lambda: [r for r in run_async(_runs(deployment.id)) if r.state.is_scheduled()][:3]
                          if len(run_async(_runs(deployment.id))) >= 3 else None, 60)
        for run in runs:
            local = run.expected_start_time.astimezone(BANGKOK)
            assert (local.hour, local.minute) == (2, 0), local
            assert run.auto_scheduled  # created by the server's scheduler, not by hand
        days = [r.expected_start_time.astimezone(BANGKOK).date() for r in runs]
        assert days == sorted(set(days))  # one a night
    finally:
        assert serve.stop() == 0
    _clean_stop_output(serve.output())
    assert "stopped: the deployment's schedule is paused" in serve.output()


def _generate(raw: Path, docs: int) -> None:
    subprocess.run([str(BIN / "schoolnet"), "generate", "--out", str(raw), "--docs", str(docs), "--seed", "3"],
                   check=True, capture_output=True)


def _run_by_scheduler_in_state(deployment_id, states: set[str], after: datetime):
    for run in run_async(_runs(deployment_id)):
        if run.auto_scheduled and run.expected_start_time >= after and run.state.type.value in states:
            return run
    return None


def test_scheduled_runs_start_on_time_and_stops_leave_nothing_in_flight(prefect_server, tmp_path):
    """Every minute: the scheduler's run is cancelled by a SIGTERM to serve (Cancelled, slot free); an
    orphan holding the slot is healed when serve starts again; the next scheduled run then starts on time,
    completes, and the warehouse and the artifacts show it; a year with no data says so."""
    raw, warehouse = tmp_path / "raw", tmp_path / "wh"
    _generate(raw, 2500)  # a run of several seconds (~15 s): SIGTERM lands while it works
    began = datetime.now(UTC)
    serve = Serve(prefect_server, raw, warehouse, tmp_path / "serve-1.log", cron="* * * * *")
    deployment = serve.serving()
    running = wait_until("a scheduled run Running", lambda: _run_by_scheduler_in_state(
        deployment.id, {"RUNNING"}, began), 150, poll_s=0.25)
    assert serve.stop(signal.SIGTERM) == 0
    _clean_stop_output(serve.output())
    final = wait_until("the run to end", lambda: (r := run_async(_runs(deployment.id))) and next(
        (x for x in r if x.id == running.id and x.state.is_final()), None), 30)
    assert final.state.type.value in ("CANCELLED", "CRASHED"), final.state
    assert run_async(_deployment()).global_concurrency_limit.active_slots == 0

    orphan = run_async(_make_orphan(deployment.id))
    assert run_async(_deployment()).global_concurrency_limit.active_slots == 1
    restarted = datetime.now(UTC)
    serve = Serve(prefect_server, raw, warehouse, tmp_path / "serve-2.log", cron="* * * * *")
    try:
        healed = wait_until("the orphan marked Crashed", lambda: next(
            (r for r in run_async(_runs(deployment.id)) if r.id == orphan.id and r.state.is_crashed()), None), 60)
        assert "orphaned" in healed.state.message
        done = wait_until("the next scheduled run Completed", lambda: _run_by_scheduler_in_state(
            deployment.id, {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}, restarted), 180)
        assert done.state.is_completed(), (done.state, serve.output()[-4000:])
        late = done.start_time - done.expected_start_time
        assert late < timedelta(seconds=20), f"started {late} after its scheduled time"
        con = open_warehouse(warehouse)
        assert con.sql("SELECT count(*) FROM dim_project").fetchall()[0][0] > 2000
        con.close()
        artifacts = {a.key: a for a in run_async(_artifacts(done.id))}
        assert {"schoolnet-run-summary", "schoolnet-files", "schoolnet-rows"} <= set(artifacts)

        out = subprocess.run([str(BIN / "schoolnet"), "trigger", "--fiscal-year", "1999", "--wait"],
                             env=prefect_server.env, capture_output=True, text=True, timeout=240)
        assert out.returncode == 0 and "ended Completed" in out.stdout, out.stdout + out.stderr
        year_run = next(r for r in run_async(_runs(deployment.id)) if r.parameters.get("fiscal_year") == 2542)
        summary = next(a for a in run_async(_artifacts(year_run.id)) if a.key == "schoolnet-run-summary")
        assert "no documents for fiscal year 2542" in summary.data
    finally:
        assert serve.stop() == 0
    _clean_stop_output(serve.output())
    assert prefect_server.log_errors() == []


def test_an_implausible_fiscal_year_is_refused_before_any_run(prefect_server, tmp_path):
    serve = Serve(prefect_server, _sample_raw(tmp_path), tmp_path / "wh", tmp_path / "serve.log")
    try:
        serve.serving()
        out = subprocess.run([str(BIN / "prefect"), "deployment", "run", "schoolnet-etl/nightly", "--param",
                              "fiscal_year=1800"], env=prefect_server.env, capture_output=True, text=True)
        assert "Validation failed for field 'fiscal_year'" in out.stdout + out.stderr
        assert "Traceback" not in out.stdout + out.stderr
        out = subprocess.run([str(BIN / "schoolnet"), "trigger", "--fiscal-year", "1800"], env=prefect_server.env,
                             capture_output=True, text=True)
        assert out.returncode == 2 and "1800 is not a fiscal year" in out.stderr
    finally:
        assert serve.stop(signal.SIGINT) == 0
    _clean_stop_output(serve.output())


def test_serve_without_an_api_says_how_to_start_one(tmp_path):
    env = {**os.environ, "PREFECT_API_URL": "http://127.0.0.1:9/api", "PREFECT_HOME": str(tmp_path)}
    out = subprocess.run([str(BIN / "schoolnet"), "serve", "--raw-dir", str(SAMPLE_RAW)], env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "no Prefect API answers at http://127.0.0.1:9/api" in out.stderr
    assert out.stderr.count("\n") == 1


def test_a_busy_warehouse_is_one_line_and_exit_3(tmp_path):
    import fcntl

    (tmp_path / "wh").mkdir()
    with (tmp_path / "wh" / ".run.lock").open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        out = subprocess.run([sys.executable, "-m", "schoolnet.cli", "run", "--raw-dir", str(SAMPLE_RAW),
                              "--warehouse-dir", str(tmp_path / "wh")], capture_output=True, text=True, timeout=120)
    assert out.returncode == 3 and out.stdout == ""
    assert out.stderr.splitlines() == [f"schoolnet: another schoolnet run is writing {tmp_path / 'wh'}; "
                                       "try again when it ends"]
