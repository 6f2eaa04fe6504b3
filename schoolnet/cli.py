"""The `schoolnet` command."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from schoolnet.settings import Settings, SettingsError


def _fiscal_year(text: str) -> int:
    from transform.normalize import fiscal_year_from_user

    try:
        return fiscal_year_from_user(int(text))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a fiscal year (BE like 2564 or CE like 2021)") from exc


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
        description="Register the 'schoolnet-etl/nightly' deployment (cron, Asia/Bangkok) with the Prefect API "
                    "named by PREFECT_API_URL and serve its runs until stopped. Ad-hoc run for one fiscal year: "
                    "prefect deployment run 'schoolnet-etl/nightly' --param fiscal_year=2564",
    )
    serve.add_argument("--raw-dir", default=None, help="raw dir for the deployment's runs (default: settings)")
    serve.add_argument("--warehouse-dir", default=None, help="warehouse dir for the deployment's runs")
    serve.add_argument("--cron", default=None, help="cron schedule in Asia/Bangkok time (default: 0 2 * * *)")
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
        os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
        from flows.deploy import NIGHTLY_CRON, serve

        serve(args.raw_dir, args.warehouse_dir, args.cron or NIGHTLY_CRON)
        return 0
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
    from schoolnet import pipeline

    try:
        settings = Settings.from_env(raw_dir=args.raw_dir, warehouse_dir=args.warehouse_dir)
    except SettingsError as exc:
        print(f"schoolnet: {exc}", file=sys.stderr)
        return 2
    if not settings.raw_dir.is_dir():
        print(f"schoolnet: raw dir {settings.raw_dir} does not exist", file=sys.stderr)
        return 2
    try:
        if args.no_prefect:
            summary = pipeline.run_once(settings, args.fiscal_year, args.full_refresh)
        else:
            os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
            os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
            from flows.etl import etl_flow, run_on_dask

            parameters = dict(raw_dir=str(settings.raw_dir), warehouse_dir=str(settings.warehouse_dir),
                              fiscal_year=args.fiscal_year, full_refresh=args.full_refresh)
            if args.dask_address:
                summary = run_on_dask(args.dask_address, **parameters)
            else:
                summary = etl_flow(**parameters)
    except pipeline.RunLockedError as exc:
        print(f"schoolnet: {exc}", file=sys.stderr)
        return 3
    print(summary.as_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
