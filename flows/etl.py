"""The ETL flow: discover dumps -> parse (normalise, decide across renderings) -> resolve entities -> load."""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from schoolnet import pipeline
from schoolnet.settings import Settings
from transform.normalize import fiscal_year_from_user


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


@flow(name="schoolnet-etl", log_prints=True)
def etl_flow(raw_dir: str | None = None, warehouse_dir: str | None = None, fiscal_year: int | None = None,
             full_refresh: bool = False) -> pipeline.RunSummary:
    """One ETL run. fiscal_year (BE 2564 or CE 2021) rebuilds only that year's fact partitions."""
    settings = Settings.from_env(raw_dir=raw_dir, warehouse_dir=warehouse_dir)
    year = fiscal_year_from_user(fiscal_year) if fiscal_year is not None else None
    run_id = pipeline.new_run_id()
    logger = get_run_logger()
    with pipeline.warehouse_lock(Path(settings.warehouse_dir)):
        ingested = extract_and_parse(settings, full_refresh, run_id)
        resolved = resolve_entities(ingested, settings, run_id)
        summary = load_warehouse(ingested, resolved, settings, run_id, year)
    logger.info(summary.as_text())
    return summary
