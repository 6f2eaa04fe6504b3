"""The Prefect flow `schoolnet-pull`: fetch the raw dumps of every configured source into the raw dir
(flows/stages.pull does the work). The nightly deployment runs it before its ETL (etl_flow's `pull`
parameter); a source that is down fails this flow, and the ETL still runs on what had landed."""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.states import Completed, Failed, State

from common.settings import Settings
from extract.sources import SourceSpec, configured_sources
from flows import stages
from flows.lock import warehouse_lock
from flows.summary import PullSummary, RunFailedError


@task(name="pull-sources", cache_policy=NO_CACHE)
def pull_task(settings: Settings, specs: list[SourceSpec], run_id: str) -> PullSummary:
    return stages.pull(settings, specs, run_id)


def sources_of(settings: Settings, urls: list[str] | None, endpoint_url: str | None = None) -> list[SourceSpec]:
    """--source URLs when given, else SCHOOLNET_SOURCES, else the sources file."""
    if urls:
        return [SourceSpec(u, endpoint_url=endpoint_url) for u in urls]
    return configured_sources(settings.sources_file, settings.sources)


@flow(name="schoolnet-pull", log_prints=True)
def pull_flow(sources: list[str] | None = None, raw_dir: str | None = None, warehouse_dir: str | None = None,
              endpoint_url: str | None = None) -> State:
    """Fetch raw dumps into the raw dir.

    Args:
        sources: URLs (http(s) folder listings, s3://bucket/prefix/); default: the configured sources
        raw_dir: where they land, under <raw dir>/<source name>/ (default: the settings', data/raw)
        warehouse_dir: the warehouse whose state keeps the pull ledger and every fetched file
        endpoint_url: an S3-compatible API for s3:// sources (default: SCHOOLNET_S3_ENDPOINT_URL)
    """
    settings = Settings.from_env(raw_dir=raw_dir, warehouse_dir=warehouse_dir)
    specs = sources_of(settings, sources, endpoint_url)
    with warehouse_lock(Path(settings.warehouse_dir), Path(settings.raw_dir)):
        summary = pull_task(settings, specs, stages.new_run_id())
    get_run_logger().info(summary.as_text())
    create_markdown_artifact(key="schoolnet-pull-summary", markdown=summary.as_markdown(),
                             description=f"Pull {summary.run_id}")
    if summary.failed:
        message = f"{len(summary.failures)} file(s) or source(s) failed: {summary.failures[0]}"
        return Failed(message=message, data=RunFailedError(message, summary))
    return Completed(data=summary)
