"""The ETL flow: discover dumps -> parse (normalise, decide across renderings) -> resolve entities -> load.

Parsing runs on a local process pool, or, when the flow's task runner is a DaskTaskRunner (the
SCHOOLNET_DASK_ADDRESS setting), as one Prefect task per batch of files on the Dask cluster.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Annotated

from prefect import flow, get_run_logger, task, unmapped
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.context import FlowRunContext
from prefect.states import Failed, State
from pydantic import Field

from common.settings import Settings
from schoolnet import pipeline
from transform.values import BE_OFFSET, FISCAL_YEAR_BE_MAX, FISCAL_YEAR_BE_MIN, fiscal_year_from_user


@task(name="parse-batch", cache_policy=NO_CACHE)
def parse_batch(batch: list, config: pipeline.WorkerConfig):  # noqa: ANN201
    return pipeline.process_batch(batch, config)


def _tasks_on_the_cluster(batches: Iterable, files: int, config: pipeline.WorkerConfig) -> Iterator:
    for future in parse_batch.map(list(batches), unmapped(config)):
        yield future.result()


@task(name="extract-and-parse", cache_policy=NO_CACHE)
def extract_and_parse(settings: Settings, full_refresh: bool, run_id: str) -> pipeline.Ingested:
    return pipeline.ingest(settings, full_refresh, run_id)


@task(name="resolve-entities", cache_policy=NO_CACHE)
def resolve_entities(ingested: pipeline.Ingested, settings: Settings, run_id: str):  # noqa: ANN201
    return pipeline.resolve(ingested, settings, run_id)


@task(name="load-warehouse", cache_policy=NO_CACHE)
def load_warehouse(ingested: pipeline.Ingested, resolved, settings: Settings, run_id: str,  # noqa: ANN001
                   fiscal_year: int | None) -> pipeline.RunSummary:
    resolution, reference = resolved
    return pipeline.load(ingested, resolution, reference, settings, run_id, fiscal_year)


def default_task_runner():  # noqa: ANN201
    """A DaskTaskRunner when SCHOOLNET_DASK_ADDRESS names a scheduler, else Prefect's default."""
    address = os.environ.get("SCHOOLNET_DASK_ADDRESS")
    if not address:
        return None
    from prefect_dask import DaskTaskRunner

    return DaskTaskRunner(address=address)


def _on_dask() -> bool:
    context = FlowRunContext.get()
    return context is not None and type(context.task_runner).__name__ == "DaskTaskRunner"


# BE 2500-2643 or CE 1957-2100 (transform.values.fiscal_year_from_user): the deployment's parameter
# schema says so, so the API refuses `--param fiscal_year=1800` before a run is even created
FiscalYear = Annotated[int, Field(ge=FISCAL_YEAR_BE_MIN, le=FISCAL_YEAR_BE_MAX)] | Annotated[
    int, Field(ge=FISCAL_YEAR_BE_MIN - BE_OFFSET, le=FISCAL_YEAR_BE_MAX - BE_OFFSET)] | None


@flow(name="schoolnet-etl", log_prints=True, **({"task_runner": r} if (r := default_task_runner()) else {}))
def etl_flow(raw_dir: str | None = None, warehouse_dir: str | None = None, fiscal_year: FiscalYear = None,
             full_refresh: bool = False) -> pipeline.RunSummary | State:
    """One ETL run.

    Args:
        raw_dir: folder of raw dumps (default: the settings', data/raw)
        warehouse_dir: warehouse folder (default: the settings', data/warehouse)
        fiscal_year: rebuild only this fiscal year's fact partitions: BE (2564) or CE year-ending (2021)
        full_refresh: parse every file again instead of reusing unchanged files' previous parse
    """
    settings = Settings.from_env(raw_dir=raw_dir, warehouse_dir=warehouse_dir)
    year = fiscal_year_from_user(fiscal_year) if fiscal_year is not None else None
    run_id = pipeline.new_run_id()
    logger = get_run_logger()
    try:
        with pipeline.warehouse_lock(Path(settings.warehouse_dir)):
            if _on_dask():
                ingested = pipeline.ingest(settings, full_refresh, run_id, runner=_tasks_on_the_cluster)
            else:
                ingested = extract_and_parse(settings, full_refresh, run_id)
            resolved = resolve_entities(ingested, settings, run_id)
            summary = load_warehouse(ingested, resolved, settings, run_id, year)
    except pipeline.RunLockedError as exc:  # one line in the run's log, not a traceback
        return Failed(message=str(exc))
    logger.info(summary.as_text())
    publish_artifacts(summary)
    return summary


def publish_artifacts(summary: pipeline.RunSummary) -> None:
    """The run summary in the Prefect UI: a table of file outcomes and a markdown report."""
    create_table_artifact(key="schoolnet-files", table=summary.file_table(),
                          description=f"Files of run {summary.run_id}")
    rows = [{"table": t, "rows": n} for t, n in sorted(summary.rows.items())]
    create_table_artifact(key="schoolnet-rows", table=rows, description="Rows per table")
    create_markdown_artifact(key="schoolnet-run-summary", markdown=summary.as_markdown(),
                             description=f"Summary of run {summary.run_id}")


def run_on_dask(address: str | None = None, cluster_kwargs: dict | None = None, **parameters):  # noqa: ANN003, ANN201
    """The same flow with its tasks on a Dask cluster: an existing scheduler, or a temporary local one."""
    from prefect_dask import DaskTaskRunner

    runner = DaskTaskRunner(address=address) if address else DaskTaskRunner(cluster_kwargs=cluster_kwargs or {})
    return etl_flow.with_options(task_runner=runner)(**parameters)
