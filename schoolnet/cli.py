"""The `schoolnet` command: its parser, one function per subcommand; the handlers are schoolnet/commands.py."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from load.analyst import FORMATS
from schoolnet import commands

WAREHOUSE_HELP = "warehouse folder (default: data/warehouse, or $SCHOOLNET_WAREHOUSE_DIR)"
RAW_HELP = "landing folder of raw dumps (default: data/raw, or $SCHOOLNET_RAW_DIR)"


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
    for add in (_add_run, _add_pull, _add_server, _add_serve, _add_trigger, _add_query, _add_export, _add_docs,
                _add_generate):
        add(sub)
    return parser


def _add_run(sub: argparse._SubParsersAction) -> None:
    run = sub.add_parser(
        "run", help="run the ETL flow once",
        description="Run the ETL flow once: discover raw dumps, parse all three layouts, decide each value "
                    "across renderings, resolve people/schools/districts, and publish Parquet files plus "
                    "warehouse.duckdb. Exit 0 when the run completed (even with quarantined files), 2 for a "
                    "bad setting, 3 when another run is writing the warehouse.",
    )
    run.add_argument("--raw-dir", type=Path, default=None, help=RAW_HELP)
    run.add_argument("--warehouse-dir", type=Path, default=None, help=WAREHOUSE_HELP)
    run.add_argument("--fiscal-year", type=_fiscal_year, default=None,
                     help="rewrite this fiscal year's partitions whole, as well as what changed: BE (2564) or "
                          "CE year-ending (2021)")
    run.add_argument("--full-refresh", action="store_true",
                     help="parse every file again and rewrite every table (the document store starts empty)")
    run.add_argument("--verify", action="store_true",
                     help="re-hash every raw file instead of trusting an unchanged size, mtime and inode")
    run.add_argument("--dask-address", default=None,
                     help="run the flow's parsing tasks on this Dask scheduler (tcp://host:8786; "
                          "default $SCHOOLNET_DASK_ADDRESS, else a local process pool)")
    run.add_argument("--no-prefect", action="store_true",
                     help="run the same stages without Prefect (no API server, e.g. for quick local checks)")
    run.set_defaults(handler=commands.run)


def _add_pull(sub: argparse._SubParsersAction) -> None:
    pull = sub.add_parser(
        "pull", help="fetch raw dumps from where they are published into the raw dir",
        description="Fetch the files of HTTP(S) folder listings and S3 prefixes into <raw dir>/<source name>/, "
                    "incrementally: only new or changed files are downloaded (ETag, Last-Modified, size), each "
                    "lands whole in one rename, and every remote file gets a pull_ledger row (in the warehouse "
                    "from its next run). Sources: --source, else $SCHOOLNET_SOURCES, else data/sources.toml. "
                    "Exit 0 when every file landed or was unchanged, 1 when a file or a source failed (what "
                    "landed stays), 2 for a bad source or setting, 3 when a run holds the warehouse.",
    )
    pull.add_argument("--source", action="append", default=None, metavar="URL",
                      help="http(s)://host/folder/ (an HTML listing; sub-folders followed) or s3://bucket/prefix/ "
                           "(credentials: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY); repeatable")
    pull.add_argument("--raw-dir", type=Path, default=None, help=RAW_HELP)
    pull.add_argument("--warehouse-dir", type=Path, default=None,
                      help="the warehouse whose state keeps the pull ledger and every fetched file (" +
                           WAREHOUSE_HELP.split("(", 1)[1])
    pull.add_argument("--endpoint-url", default=None,
                      help="an S3-compatible API for s3:// sources (default $SCHOOLNET_S3_ENDPOINT_URL, else AWS)")
    pull.set_defaults(handler=commands.pull)


def _add_server(sub: argparse._SubParsersAction) -> None:
    server = sub.add_parser(
        "server", help="run the Prefect API and UI with the deployment's settings (the systemd unit runs this)",
        description="`prefect server start` with deploy/prefect.env (API on 127.0.0.1:4200, CORS limited to the UI's "
                    "own origin, CSRF protection on) and the API's auth string: generated on the first start into "
                    "deploy/prefect-auth.env (mode 0600; $SCHOOLNET_PREFECT_AUTH_FILE names another), which serve, "
                    "trigger and the flow runs read. The UI asks for it: user 'schoolnet', the string after the "
                    "colon as the password.",
    )
    server.set_defaults(handler=commands.server)


def _add_serve(sub: argparse._SubParsersAction) -> None:
    serve = sub.add_parser(
        "serve", help="register and serve the nightly deployment",
        description="Register the 'schoolnet-etl/nightly' deployment (cron 0 2 * * *, Asia/Bangkok) with the Prefect "
                    "API and run its scheduled and ad-hoc runs until stopped. Prefect settings come from "
                    "deploy/prefect.env (or $SCHOOLNET_PREFECT_ENV; variables already set win) and the API's auth "
                    "string from deploy/prefect-auth.env. A run created through the API may only name a raw dir and "
                    "a warehouse inside the folders serve was given ($SCHOOLNET_RUN_ROOTS adds others). SIGTERM or "
                    "Ctrl-C "
                    "cancels the run in flight (it ends Cancelled, its concurrency slot is freed) and pauses the "
                    "schedule until serve starts again. Ad-hoc run for one fiscal year: "
                    "schoolnet trigger --fiscal-year 2564",
    )
    serve.add_argument("--raw-dir", type=Path, default=None, help="raw dir for the deployment's runs (" +
                       RAW_HELP.split("(", 1)[1])
    serve.add_argument("--warehouse-dir", type=Path, default=None, help=WAREHOUSE_HELP)
    serve.add_argument("--cron", default=None, help="cron schedule in Asia/Bangkok time (default: 0 2 * * *)")
    serve.add_argument("--with-server", action="store_true",
                       help="start the Prefect API (prefect server start) when none answers at PREFECT_API_URL, "
                            "and stop it with serve (make serve does this); its auth string is generated on the "
                            "first start")
    serve.set_defaults(handler=commands.serve)


def _add_trigger(sub: argparse._SubParsersAction) -> None:
    trigger = sub.add_parser(
        "trigger", help="start an ad-hoc run of the served deployment",
        description="Create a run of 'schoolnet-etl/nightly' on the Prefect API of deploy/prefect.env; the process "
                    "that serves the deployment runs it (after the run in flight, if any: one run at a time).",
    )
    trigger.add_argument("--fiscal-year", type=_fiscal_year, default=None,
                         help="rewrite this fiscal year's partitions whole: BE (2564) or CE year-ending (2021)")
    trigger.add_argument("--full-refresh", action="store_true", help="parse every file again, rewrite every table")
    trigger.add_argument("--verify", action="store_true", help="re-hash every raw file")
    trigger.add_argument("--wait", action="store_true",
                         help="wait for the run to end; exit 0 when it completed, 1 otherwise")
    trigger.set_defaults(handler=commands.trigger)


def _add_query(sub: argparse._SubParsersAction) -> None:
    query = sub.add_parser(
        "query", help="run SQL on the warehouse (read-only)",
        description="Run SQL read-only on warehouse.duckdb and print each statement's result. Only reads run "
                    "(SELECT/WITH/FROM, SHOW, DESCRIBE, SUMMARIZE, EXPLAIN, PRAGMA, SET VARIABLE): COPY, ATTACH, "
                    "CREATE, INSTALL/LOAD and every write are refused, and DuckDB sees no file outside the "
                    "warehouse. The questions in sql/analyst/ are good starting points: "
                    "schoolnet query \"$(cat sql/analyst/budget_burn_by_district_and_year.sql)\"",
    )
    query.add_argument("sql", help="the SQL: one statement or several separated by ';'")
    query.add_argument("--warehouse-dir", type=Path, default=None, help=WAREHOUSE_HELP)
    query.add_argument("--format", choices=FORMATS, default="table",
                       help="table (for a terminal), csv (lists as JSON, formulas neutralised) or json (decimals "
                            "as exact numbers)")
    query.add_argument("--output", type=Path, default=None, help="write to this file instead of the terminal")
    query.add_argument("--bom", action=argparse.BooleanOptionalAction, default=None,
                       help="start CSV with a UTF-8 byte-order mark, so Excel reads Thai (default: on for an "
                            "--output ending in .csv, off otherwise)")
    query.set_defaults(handler=commands.query)


def _add_export(sub: argparse._SubParsersAction) -> None:
    export = sub.add_parser(
        "export", help="write the warehouse for Excel, a laptop's DuckDB, or files",
        description="Write the warehouse in the form it is taken elsewhere: --xlsx, an Excel workbook of the "
                    "questions of sql/analyst/ (one sheet each, one header row, the Thai labels in its comments, "
                    "numbers as numbers, dates as dates, ids as text); --duckdb, one self-contained DuckDB file of "
                    "tables with their comments, which DuckDB 1.1 and newer open anywhere; --parquet or --csv, every "
                    "table whole as DIR/<table>.parquet or .csv (UTF-8 with a BOM).",
    )
    target = export.add_mutually_exclusive_group(required=True)
    target.add_argument("--xlsx", type=Path, help="the workbook to write (e.g. schoolnet.xlsx)")
    target.add_argument("--duckdb", type=Path, help="the DuckDB file to write (e.g. schoolnet-2026-12.duckdb)")
    target.add_argument("--parquet", type=Path, metavar="DIR", help="a folder for one Parquet file per table")
    target.add_argument("--csv", type=Path, metavar="DIR", help="a folder for one CSV file per table")
    export.add_argument("--warehouse-dir", type=Path, default=None, help=WAREHOUSE_HELP)
    export.set_defaults(handler=commands.export)


def _add_docs(sub: argparse._SubParsersAction) -> None:
    docs = sub.add_parser("docs", help="write the data dictionary (docs/data_dictionary.md)",
                          description="Generate the data dictionary from the COMMENT ON statements and the list "
                                      "of data-quality checks.")
    docs.add_argument("--out", type=Path, default=Path("docs/data_dictionary.md"), help="where to write it")
    docs.set_defaults(handler=commands.docs)


def _add_generate(sub: argparse._SubParsersAction) -> None:
    gen = sub.add_parser(
        "generate", help="write a synthetic corpus with known truth",
        description="Write N synthetic dumps (all three layouts, with the phenomena of the real ones) into "
                    "--out, and their truth to <out>.truth.jsonl beside the folder. Deterministic per --seed.",
    )
    gen.add_argument("--out", type=Path, required=True, help="folder to write the dumps into")
    gen.add_argument("--docs", type=int, required=True, help="number of documents")
    gen.add_argument("--seed", type=int, default=0, help="random seed (same seed, same corpus)")
    shape = gen.add_mutually_exclusive_group()
    shape.add_argument("--scans", action="store_true",
                       help="print each document (progress forms and proposals) to PDF in a Thai font with Chromium "
                            "and scan it: 150-300 dpi, skew up to +-2 degrees, blur, speckle, JPEG quality 50-70; "
                            "as scanned PDF, PNG, JPEG or TIFF (needs chromium and fonts-thai-tlwg)")
    shape.add_argument("--clean-scans", action="store_true",
                       help="as --scans, without the scanner's damage (300 dpi, straight, sharp)")
    shape.add_argument("--text-layer", action="store_true",
                       help="print each document to a PDF with its text layer, not scanned")
    gen.set_defaults(handler=commands.generate)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except BrokenPipeError:  # `schoolnet query ... | head`: the reader left; end quietly, as other tools do
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
