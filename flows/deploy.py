"""The nightly deployment: the ETL flow on a cron schedule in Bangkok time, with `fiscal_year` and
`full_refresh` parameters for ad-hoc runs (`prefect deployment run 'schoolnet-etl/nightly' --param ...`)."""

from __future__ import annotations

from prefect.schedules import Cron

from flows.etl import etl_flow

DEPLOYMENT_NAME = "nightly"
NIGHTLY_CRON = "0 2 * * *"  # 02:00, after the district offices' evening uploads
TIMEZONE = "Asia/Bangkok"


def nightly_deployment(raw_dir: str | None = None, warehouse_dir: str | None = None,
                       cron: str = NIGHTLY_CRON):  # noqa: ANN201 - a prefect RunnerDeployment
    """The deployment object: schedule, timezone and default parameters (None = the settings' defaults)."""
    return etl_flow.to_deployment(
        name=DEPLOYMENT_NAME,
        schedule=Cron(cron, timezone=TIMEZONE),
        concurrency_limit=1,  # a second run waits for the first (the warehouse lock would stop it anyway)
        parameters={"raw_dir": raw_dir, "warehouse_dir": warehouse_dir, "fiscal_year": None, "full_refresh": False},
        description="Nightly schoolnet ETL; for one fiscal year: --param fiscal_year=2564 (BE) or 2021 (CE).",
        tags=["schoolnet", "nightly"],
    )


def serve(raw_dir: str | None = None, warehouse_dir: str | None = None, cron: str = NIGHTLY_CRON) -> None:
    """Register the deployment with the Prefect API and run its scheduled and ad-hoc runs (blocks)."""
    from prefect import serve as prefect_serve

    prefect_serve(nightly_deployment(raw_dir, warehouse_dir, cron))
