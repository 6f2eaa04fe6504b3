"""The nightly deployment: the ETL flow on a cron schedule in Bangkok time, with `fiscal_year` and
`full_refresh` parameters for ad-hoc runs (`schoolnet trigger --fiscal-year 2564`)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import FlowRun
from prefect.deployments.runner import RunnerDeployment
from prefect.schedules import Cron

from flows.etl import etl_flow

DEPLOYMENT_NAME = "nightly"
FULL_NAME = f"schoolnet-etl/{DEPLOYMENT_NAME}"
NIGHTLY_CRON = "0 2 * * *"  # 02:00, after the district offices' evening uploads
TIMEZONE = "Asia/Bangkok"


def nightly_deployment(raw_dir: str | Path | None = None, warehouse_dir: str | Path | None = None,
                       cron: str = NIGHTLY_CRON) -> RunnerDeployment:
    """The deployment object: schedule, timezone and default parameters (None = the settings' defaults); its
    runs first pull the configured sources (none configured: nothing is pulled).

    Folders are made absolute: a flow run starts in a process of its own, whose working directory is not
    the operator's shell's. Raises ValueError for a cron expression that is not one."""
    return etl_flow.to_deployment(
        name=DEPLOYMENT_NAME,
        schedule=Cron(cron, timezone=TIMEZONE),
        concurrency_limit=1,  # a second run waits for the first (the warehouse lock would stop it anyway)
        parameters={"raw_dir": _absolute(raw_dir), "warehouse_dir": _absolute(warehouse_dir),
                    "fiscal_year": None, "full_refresh": False, "pull": True},
        description="Nightly schoolnet ETL; for one fiscal year: schoolnet trigger --fiscal-year 2564 (BE) or 2021 "
                    "(CE).",
        tags=["schoolnet", "nightly"],
    )


def _absolute(folder: str | Path | None) -> str | None:
    return str(Path(folder).expanduser().resolve()) if folder is not None else None


async def trigger(fiscal_year: int | None = None, full_refresh: bool = False, verify: bool = False) -> FlowRun:
    """An ad-hoc run of the served deployment (the API validates the parameters against its schema)."""
    async with get_client() as client:
        deployment = await client.read_deployment_by_name(FULL_NAME)
        parameters: dict[str, object] = {"full_refresh": full_refresh, "verify": verify}
        if fiscal_year is not None:
            parameters["fiscal_year"] = fiscal_year
        return await client.create_flow_run_from_deployment(deployment.id, parameters=parameters)


async def wait_for(run_id: object, poll_s: float = 2.0) -> FlowRun:
    """The run once it has reached a final state."""
    async with get_client() as client:
        while True:
            run = await client.read_flow_run(run_id)  # type: ignore[arg-type]
            if run.state is not None and run.state.is_final():
                return run
            await asyncio.sleep(poll_s)
