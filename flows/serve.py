"""Serving the nightly deployment: Prefect's runner, with stops that leave nothing behind.

Prefect 3.8.8's own SIGTERM handler calls the runner's async stop() without awaiting it and exits from
inside the event loop: the run in flight stayed `Running` forever, holding the deployment's only
concurrency slot (the next run waited 5 min 17 s for the slot's lease to expire). Here SIGTERM and SIGINT
both cancel the run in flight through the runner's own cancellation (its process is stopped, the run
becomes `Cancelled`, the server frees the slot), then the runner stops and pauses the schedule. A run
left `Running` by a serve that could not clean up (SIGKILL, power loss) is marked `Crashed` when serve
starts again, which frees the slot too.
"""

from __future__ import annotations

import asyncio
import signal
from uuid import UUID

from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    DeploymentFilter,
    DeploymentFilterId,
    FlowRunFilter,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import StateType
from prefect.deployments.runner import RunnerDeployment
from prefect.logging import get_logger
from prefect.runner import Runner
from prefect.states import Crashed

IN_FLIGHT = [StateType.PENDING, StateType.RUNNING, StateType.CANCELLING]
logger = get_logger("schoolnet.serve")


class GracefulRunner(Runner):
    """A Runner whose stop on SIGTERM or SIGINT is awaited: the run in flight is cancelled, not orphaned."""

    def __init__(self, *args: object, **kwargs: object):
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._stop_task: asyncio.Task | None = None
        self._stop_requested = False

    def handle_sigterm(self, *args: object, **kwargs: object) -> None:
        """Replaces Prefect's handler, which Runner.start installs for SIGTERM: the event loop's handler,
        installed by serve_deployment before the runner starts, is the one that acts."""

    def request_stop(self, why: str) -> None:
        """Cancel what runs and stop; safe to call from a signal handler, and more than once."""
        if self._stop_requested:
            logger.info("%s received: already stopping (the run in flight is being cancelled)", why)
            return
        self._stop_requested = True
        logger.info("%s received: cancelling the run in flight, if any (the warehouse keeps its current "
                    "version), then stopping", why)
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._begin_stop)

    def _begin_stop(self) -> None:
        self._stop_task = asyncio.ensure_future(self._stop_once_started())

    async def _stop_once_started(self) -> None:
        while not self.started:  # a signal while the runner was still starting
            await asyncio.sleep(0.1)
        await self.astop()

    async def start(self, run_once: bool = False, webserver: bool | None = None) -> None:
        if self._stop_requested:
            return
        await super().start(run_once=run_once, webserver=webserver)
        if self._stop_task is not None and not self._stop_task.done():
            await self._stop_task


async def serve_deployment(deployment: RunnerDeployment) -> None:
    """Register the deployment, heal runs an earlier serve orphaned, and run its schedule until a signal."""
    runner = GracefulRunner(pause_on_shutdown=True, limit=1)
    runner._loop = asyncio.get_running_loop()
    loop = runner._loop
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, runner.request_stop, sig.name)
    deployment_id = await runner.aadd_deployment(deployment)
    healed = await crash_orphaned_runs(deployment_id)
    for name in healed:
        logger.warning("flow run %r was left in flight by a serve that stopped without cleaning up: "
                       "marked Crashed, its concurrency slot is free", name)
    logger.info("serving %s/%s (%s); stop with SIGTERM or Ctrl-C", deployment.flow_name, deployment.name,
                ", ".join(_describe(s) for s in deployment.schedules or ()) or "no schedule")
    await runner.start()
    logger.info("stopped: the deployment's schedule is paused until serve starts again")


def _describe(schedule: object) -> str:
    inner = getattr(schedule, "schedule", schedule)
    cron = getattr(inner, "cron", None)
    return f"cron {cron!r} in {getattr(inner, 'timezone', 'UTC')}" if cron else str(inner)


async def crash_orphaned_runs(deployment_id: UUID) -> list[str]:
    """Mark Crashed every run of the deployment still Pending, Running or Cancelling: at serve's start no
    process of ours runs them, so they were orphaned (the Crashed state frees their concurrency slot)."""
    async with get_client() as client:
        runs = await client.read_flow_runs(
            deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id])),
            flow_run_filter=FlowRunFilter(state=FlowRunFilterState(type=FlowRunFilterStateType(any_=IN_FLIGHT))))
        healed = []
        for run in runs:
            state = Crashed(message="orphaned: the serve process running it stopped without finishing or "
                                    "cancelling it; marked Crashed when serve started again")
            await client.set_flow_run_state(run.id, state, force=True)
            healed.append(run.name)
        return healed


def run(deployment: RunnerDeployment) -> None:
    """serve_deployment from synchronous code (the CLI)."""
    asyncio.run(serve_deployment(deployment))
