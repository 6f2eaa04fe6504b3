"""The ETL flow: extract and parse -> resolve identities -> load, each stage a Prefect task.

The stages and their order are flows/stages.py's; this module only makes them Prefect's: tasks, the run
summary as artifacts, and the Dask cluster. Parsing runs on a local process pool, or, when the flow's task
runner is a DaskTaskRunner (the SCHOOLNET_DASK_ADDRESS setting), as one Prefect task per batch of files on
the cluster.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Annotated, Any

from prefect import flow, get_run_logger, task, unmapped
from prefect.artifacts import create_link_artifact, create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.context import FlowRunContext
from prefect.states import Failed, State
from prefect.task_runners import TaskRunner
from pydantic import Field

from common.settings import Settings, SettingsError, check_within_roots, run_roots
from flows import stages
from flows.lock import NotAWarehouseError, RunLockedError, warehouse_lock
from flows.pull import pull_flow
from flows.summary import RunFailedError, RunSummary
from flows.workers import Batch, BatchResult, WorkerConfig, process_batch
from transform.values import BE_OFFSET, FISCAL_YEAR_BE_MAX, FISCAL_YEAR_BE_MIN, fiscal_year_from_user

# BE 2500-2643 or CE 1957-2100 (transform.values.fiscal_year_from_user): the deployment's parameter
# schema says so, so the API refuses `--param fiscal_year=1800` before a run is even created
FiscalYear = Annotated[int, Field(ge=FISCAL_YEAR_BE_MIN, le=FISCAL_YEAR_BE_MAX)] | Annotated[
    int, Field(ge=FISCAL_YEAR_BE_MIN - BE_OFFSET, le=FISCAL_YEAR_BE_MAX - BE_OFFSET)] | None


class _ReportedFailure(logging.Filter):
    """Prefect 3.8.8 logs every failed run of a deployment a second time, as "Engine execution exited with
    unexpected exception" with the traceback of its own state.result() (flow_engine.run_flow, called with an
    error logger by prefect.engine). A run that failed the way schoolnet reports failures (a Failed state
    holding a RunFailedError: its message is the state's, logged once by "Finished in state Failed(...)") is
    not unexpected: that record is dropped; any other exception is logged as Prefect logs it."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not (isinstance(error, RunFailedError) and "unexpected exception" in str(record.msg))


logging.getLogger("prefect.flow_runs").addFilter(_ReportedFailure())


@task(name="parse-batch", cache_policy=NO_CACHE)
def parse_batch(batch: Batch, config: WorkerConfig) -> BatchResult:
    return process_batch(batch, config)


def _batches_as_tasks(batches: Iterable[Batch], files: int, config: WorkerConfig) -> Iterator[BatchResult]:
    """The flow's task runner (a Dask cluster) parses the batches, one Prefect task each."""
    for future in parse_batch.map(list(batches), unmapped(config)):
        yield future.result()


def as_task(name: str, stage: Callable[..., Any], *args: Any) -> Any:
    """A stage run as a Prefect task of that name (its arguments are live objects: never cached)."""
    return task(stage, name=name, cache_policy=NO_CACHE)(*args)


def default_task_runner() -> TaskRunner | None:
    """A DaskTaskRunner when the settings name a Dask scheduler (SCHOOLNET_DASK_ADDRESS), else Prefect's
    default; decided when the module is imported, which is how a deployment's run gets it too."""
    address = Settings.from_env().dask_address
    if not address:
        return None
    from prefect_dask import DaskTaskRunner

    return DaskTaskRunner(address=address)


def _created_through_the_api() -> bool:
    """A run of a deployment (scheduled, or created by anyone the API lets in), not a call from Python."""
    context = FlowRunContext.get()
    return context is not None and context.flow_run is not None and context.flow_run.deployment_id is not None


def _on_dask() -> bool:
    context = FlowRunContext.get()
    return context is not None and type(context.task_runner).__name__ == "DaskTaskRunner"


@flow(name="schoolnet-etl", log_prints=True, **({"task_runner": r} if (r := default_task_runner()) else {}))
def etl_flow(raw_dir: str | None = None, warehouse_dir: str | None = None, fiscal_year: FiscalYear = None,
             full_refresh: bool = False, pull: bool = False, verify: bool = False) -> RunSummary | State:
    """One ETL run.

    Args:
        raw_dir: folder of raw dumps (default: the settings', data/raw)
        warehouse_dir: warehouse folder (default: the settings', data/warehouse)
        fiscal_year: also rewrite this fiscal year's partitions whole: BE (2564) or CE year-ending (2021)
        full_refresh: parse every file again and rewrite every table (the document store starts empty)
        pull: first fetch the configured sources into the raw dir (the nightly deployment does)
        verify: re-hash every raw file instead of trusting an unchanged size, mtime and inode
    """
    settings = Settings.from_env(raw_dir=raw_dir, warehouse_dir=warehouse_dir)
    year = fiscal_year_from_user(fiscal_year) if fiscal_year is not None else None
    pull_failed = None
    try:
        if _created_through_the_api():  # anyone with the API's auth string: only the folders served
            roots = run_roots()
            check_within_roots("raw_dir", Path(settings.raw_dir), roots)
            check_within_roots("warehouse_dir", Path(settings.warehouse_dir), roots)
        with warehouse_lock(Path(settings.warehouse_dir), Path(settings.raw_dir)):
            if pull:
                pulled = pull_flow(raw_dir=str(settings.raw_dir), warehouse_dir=str(settings.warehouse_dir),
                                   return_state=True)
                pull_failed = pulled.message if pulled.is_failed() else None
            summary = stages.run_stages(settings, stages.new_run_id(), year, full_refresh, step=as_task,
                                        runner=_batches_as_tasks if _on_dask() else None, verify=verify)
    except (RunLockedError, NotAWarehouseError, SettingsError) as exc:  # one line in the run's log
        return Failed(message=str(exc), data=RunFailedError(str(exc)))
    get_run_logger().info(summary.as_text())
    publish_artifacts(summary)
    if pull_failed:  # the warehouse was still rebuilt from what had landed; the run says the pull failed
        message = f"the pull failed ({pull_failed}); the ETL ran on what had landed"
        return Failed(message=message, data=RunFailedError(message, summary))
    return summary


def publish_artifacts(summary: RunSummary) -> None:
    """The run summary in the Prefect UI: a table of file outcomes, the rows, a markdown summary, and a link
    to the run's report (report/index.html)."""
    create_table_artifact(key="schoolnet-files", table=summary.file_table(),
                          description=f"Files of run {summary.run_id}")
    rows = [{"table": t, "rows": n} for t, n in sorted(summary.rows.items())]
    create_table_artifact(key="schoolnet-rows", table=rows, description="Rows per table")
    create_markdown_artifact(key="schoolnet-run-summary", markdown=summary.as_markdown(),
                             description=f"Summary of run {summary.run_id}")
    if summary.report:
        create_link_artifact(key="schoolnet-report", link=Path(summary.report).as_uri(),
                             link_text="report/index.html", description=f"The report of run {summary.run_id}")


def run_on_dask(address: str | None = None, cluster_kwargs: dict | None = None, **parameters: Any) -> RunSummary:
    """The same flow with its tasks on a Dask cluster: an existing scheduler, or a temporary local one."""
    from prefect_dask import DaskTaskRunner

    runner = DaskTaskRunner(address=address) if address else DaskTaskRunner(cluster_kwargs=cluster_kwargs or {})
    return etl_flow.with_options(task_runner=runner)(**parameters)
