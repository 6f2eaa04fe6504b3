"""The `schoolnet` command."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from common.settings import Settings, SettingsError

if TYPE_CHECKING:
    from flows.summary import RunSummary


def _fiscal_year(text: str) -> int:
    from transform.values import fiscal_year_from_user

    try:
        return fiscal_year_from_user(int(text))
    except ValueError as exc:
        why = str(exc) if text.strip().lstrip("-").isdigit() else f"{text!r} is not a fiscal year (BE like 2564 " \
            "or CE like 2021)"
        raise argparse.ArgumentTypeError(why) from exc


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="schoolnet",
        description="ETL pipeline and DuckDB/Parquet warehouse for BMA school-network project reports.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser(
        "run", help="run the ETL flow once",
        description="Run the ETL flow once: discover raw dumps, parse all three layouts, decide each value "
                    "across renderings, resolve people/schools/districts, and publish Parquet files plus "
                    "warehouse.duckdb. Exit 0 when the run completed (even with quarantined files).",
    )
    run.add_argument("--raw-dir", type=Path, default=None,
                     help="landing folder of raw dumps (default: data/raw, or $SCHOOLNET_RAW_DIR)")
    run.add_argument("--warehouse-dir", type=Path, default=None,
                     help="warehouse folder (default: data/warehouse, or $SCHOOLNET_WAREHOUSE_DIR)")
    run.add_argument("--fiscal-year", type=_fiscal_year, default=None,
                     help="rebuild only this fiscal year's fact partitions: BE (2564) or CE year-ending (2021)")
    run.add_argument("--full-refresh", action="store_true",
                     help="parse every file again instead of reusing unchanged files' previous parse")
    run.add_argument("--dask-address", default=None,
                     help="run the flow's parsing tasks on this Dask scheduler (tcp://host:8786; "
                          "default $SCHOOLNET_DASK_ADDRESS, else a local process pool)")
    run.add_argument("--no-prefect", action="store_true",
                     help="run the same stages without Prefect (no API server, e.g. for quick local checks)")
    gen = sub.add_parser(
        "generate", help="write a synthetic corpus with known truth",
        description="Write N synthetic dumps (all three layouts, with the phenomena of the real ones) into "
                    "--out, and their truth to <out>.truth.jsonl beside the folder. Deterministic per --seed.",
    )
    gen.add_argument("--out", type=Path, required=True, help="folder to write the dumps into")
    gen.add_argument("--docs", type=int, required=True, help="number of documents")
    gen.add_argument("--seed", type=int, default=0, help="random seed (same seed, same corpus)")
    serve = sub.add_parser(
        "serve", help="register and serve the nightly deployment",
        description="Register the 'schoolnet-etl/nightly' deployment (cron 0 2 * * *, Asia/Bangkok) with the Prefect "
                    "API and run its scheduled and ad-hoc runs until stopped. Prefect settings come from "
                    "deploy/prefect.env (or $SCHOOLNET_PREFECT_ENV; variables already set win). SIGTERM or Ctrl-C "
                    "cancels the run in flight (it ends Cancelled, its concurrency slot is freed) and pauses the "
                    "schedule until serve starts again. Ad-hoc run for one fiscal year: "
                    "schoolnet trigger --fiscal-year 2564",
    )
    serve.add_argument("--raw-dir", type=Path, default=None,
                       help="raw dir for the deployment's runs (default: data/raw, or $SCHOOLNET_RAW_DIR)")
    serve.add_argument("--warehouse-dir", type=Path, default=None,
                       help="warehouse dir for the deployment's runs (default: data/warehouse)")
    serve.add_argument("--cron", default=None, help="cron schedule in Asia/Bangkok time (default: 0 2 * * *)")
    serve.add_argument("--with-server", action="store_true",
                       help="start the Prefect API (prefect server start) when none answers at PREFECT_API_URL, "
                            "and stop it with serve (make serve does this)")
    trigger = sub.add_parser(
        "trigger", help="start an ad-hoc run of the served deployment",
        description="Create a run of 'schoolnet-etl/nightly' on the Prefect API of deploy/prefect.env; the process "
                    "that serves the deployment runs it (after the run in flight, if any: one run at a time).",
    )
    trigger.add_argument("--fiscal-year", type=_fiscal_year, default=None,
                         help="rebuild only this fiscal year: BE (2564) or CE year-ending (2021)")
    trigger.add_argument("--full-refresh", action="store_true", help="parse every file again")
    trigger.add_argument("--wait", action="store_true",
                         help="wait for the run to end; exit 0 when it completed, 1 otherwise")
    query = sub.add_parser(
        "query", help="run SQL on the warehouse (read-only)",
        description="Run one SQL statement read-only on warehouse.duckdb and print the result. "
                    "The questions in sql/analyst/ are good starting points: "
                    "schoolnet query \"$(cat sql/analyst/budget_burn_by_district_and_year.sql)\"",
    )
    query.add_argument("sql", help="the SQL statement")
    query.add_argument("--warehouse-dir", type=Path, default=None, help="warehouse folder (default: data/warehouse)")
    query.add_argument("--format", choices=("table", "csv", "json"), default="table", help="output format")
    docs = sub.add_parser("docs", help="write the data dictionary (docs/data_dictionary.md)",
                          description="Generate the data dictionary from the COMMENT ON statements.")
    docs.add_argument("--out", type=Path, default=Path("docs/data_dictionary.md"), help="where to write it")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "run":
        return _run(args)
    if args.command == "generate":
        return _generate(args)
    if args.command == "query":
        return _query(args)
    if args.command == "serve":
        return _serve(args)
    if args.command == "trigger":
        return _trigger(args)
    if args.command == "docs":
        from schoolnet.analyst import data_dictionary

        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(data_dictionary() + "\n", encoding="utf-8")
        print(f"wrote {args.out}")
        return 0
    return 2


def _query(args: argparse.Namespace) -> int:
    from schoolnet.analyst import QueryError, render, run_query

    settings = Settings.from_env(warehouse_dir=args.warehouse_dir)
    try:
        columns, rows = run_query(settings.warehouse_dir, args.sql)
    except QueryError as exc:
        print(f"schoolnet: {exc}", file=sys.stderr)
        return 1
    print(render(columns, rows, args.format))
    return 0


def _generate(args: argparse.Namespace) -> int:
    from extract.reference import load_reference
    from synth.corpus import generate

    if args.docs < 0:
        print("schoolnet: --docs must be >= 0", file=sys.stderr)
        return 2
    settings = Settings.from_env()
    truth = generate(args.out, args.docs, args.seed, load_reference(settings.reference_dir))
    print(f"wrote {args.docs} documents to {args.out} and their truth to {truth}")
    return 0


def _run(args: argparse.Namespace) -> int:
    from flows.lock import RunLockedError, warehouse_lock

    try:
        settings = Settings.from_env(raw_dir=args.raw_dir, warehouse_dir=args.warehouse_dir)
    except SettingsError as exc:
        print(f"schoolnet: {exc}", file=sys.stderr)
        return 2
    if not settings.raw_dir.is_dir():
        print(f"schoolnet: raw dir {settings.raw_dir} does not exist", file=sys.stderr)
        return 2
    try:
        # the lock first: a busy warehouse is one line and exit 3, before Prefect prints anything
        with warehouse_lock(settings.warehouse_dir):
            summary = _run_locked(args, settings)
    except RunLockedError as exc:
        print(f"schoolnet: {exc}", file=sys.stderr)
        return 3
    print(summary.as_text())
    return 0


def _run_locked(args: argparse.Namespace, settings: Settings) -> RunSummary:
    if args.no_prefect:
        from flows.stages import run_once

        return run_once(settings, args.fiscal_year, args.full_refresh)
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    from flows.etl import etl_flow, run_on_dask

    parameters = dict(raw_dir=str(settings.raw_dir), warehouse_dir=str(settings.warehouse_dir),
                      fiscal_year=args.fiscal_year, full_refresh=args.full_refresh)
    if args.dask_address:
        return run_on_dask(args.dask_address, **parameters)
    return etl_flow(**parameters)


def _serve(args: argparse.Namespace) -> int:
    from schoolnet.prefect_env import PrefectEnvError, load_prefect_env, prefect_server, require_api

    try:
        settings = Settings.from_env(raw_dir=args.raw_dir, warehouse_dir=args.warehouse_dir)
        if not settings.raw_dir.is_dir():
            raise SettingsError(f"raw dir {settings.raw_dir} does not exist")
        load_prefect_env()
        from flows.deploy import NIGHTLY_CRON, nightly_deployment
        from flows.serve import run

        deployment = nightly_deployment(settings.raw_dir, settings.warehouse_dir, args.cron or NIGHTLY_CRON)
        if args.with_server:
            with prefect_server():
                run(deployment)
        else:
            require_api()
            run(deployment)
    except (SettingsError, PrefectEnvError) as exc:
        print(f"schoolnet: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:  # the cron expression
        print(f"schoolnet: --cron {args.cron!r}: {exc}", file=sys.stderr)
        return 2
    return 0


def _trigger(args: argparse.Namespace) -> int:
    import asyncio

    from schoolnet.prefect_env import PrefectEnvError, load_prefect_env, require_api

    try:
        load_prefect_env()
        url = require_api()
        from prefect.exceptions import ObjectNotFound

        from flows.deploy import FULL_NAME, trigger, wait_for

        try:
            run = asyncio.run(trigger(args.fiscal_year, args.full_refresh))
        except ObjectNotFound:
            raise PrefectEnvError(f"no deployment {FULL_NAME} at {url}: start `schoolnet serve` first") from None
    except PrefectEnvError as exc:
        print(f"schoolnet: {exc}", file=sys.stderr)
        return 2
    print(f"created flow run {run.name} ({run.id}): {url.removesuffix('/api')}/runs/flow-run/{run.id}")
    if not args.wait:
        return 0
    final = asyncio.run(wait_for(run.id))
    print(f"flow run {final.name} ended {final.state.name if final.state else 'unknown'}"
          + (f": {final.state.message}" if final.state and final.state.message else ""))
    return 0 if final.state and final.state.is_completed() else 1


if __name__ == "__main__":
    sys.exit(main())
