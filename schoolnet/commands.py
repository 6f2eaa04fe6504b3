"""What each `schoolnet` command does (schoolnet/cli.py builds the parser). A handler takes the parsed
arguments and returns the exit code; it prints one clear line for any error a user can cause."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from common.settings import RUN_ROOTS_VARIABLE, Settings, SettingsError
from common.text import printable

if TYPE_CHECKING:
    from flows.summary import RunSummary


def query(args: argparse.Namespace) -> int:
    from load.analyst import QueryError, render, run_queries

    settings = Settings.from_env(warehouse_dir=args.warehouse_dir)
    try:
        results = run_queries(settings.warehouse_dir, args.sql)
    except QueryError as exc:
        print(f"schoolnet: {printable(str(exc))}", file=sys.stderr)
        return 1
    # a BOM lets Excel on Windows read UTF-8 Thai: on by default for a .csv file, off on a terminal or pipe
    bom = args.bom if args.bom is not None else bool(args.output and args.output.suffix.lower() == ".csv")
    parts = []
    for i, result in enumerate(results):
        if len(results) > 1 and args.format == "table":
            parts.append(f"-- statement {i + 1}: {printable(result.sql)}")
        if result.columns or args.format == "table":
            parts.append(render(result.columns, result.rows, args.format, bom=bom and not parts))
    text = "\n".join(parts)
    if args.output:
        args.output.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
        print(f"wrote {args.output}: {sum(len(r.rows) for r in results)} rows", file=sys.stderr)
    else:
        print(text)
    return 0


def generate(args: argparse.Namespace) -> int:
    from extract.reference import load_reference
    from synth.corpus import generate

    if args.docs < 0:
        print("schoolnet: --docs must be >= 0", file=sys.stderr)
        return 2
    settings = Settings.from_env()
    reference = load_reference(settings.reference_dir)
    if getattr(args, "scans", False) or getattr(args, "clean_scans", False) or getattr(args, "text_layer", False):
        from synth.scans import generate_scans

        truth = generate_scans(args.out, args.docs, args.seed, reference, degraded=args.scans,
                               text_layer=args.text_layer)
    else:
        truth = generate(args.out, args.docs, args.seed, reference)
    print(f"wrote {args.docs} documents to {args.out} and their truth to {truth}")
    return 0


def run(args: argparse.Namespace) -> int:
    from flows.lock import NotAWarehouseError, RunLockedError, warehouse_lock

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
        with warehouse_lock(settings.warehouse_dir, settings.raw_dir):
            summary = _run_locked(args, settings)
    except NotAWarehouseError as exc:
        print(f"schoolnet: {printable(str(exc))}", file=sys.stderr)
        return 2
    except RunLockedError as exc:
        print(f"schoolnet: {exc}", file=sys.stderr)
        return 3
    print(summary.as_text())
    return 0


def _run_locked(args: argparse.Namespace, settings: Settings) -> RunSummary:
    if args.no_prefect:
        from flows.stages import run_once

        return run_once(settings, args.fiscal_year, args.full_refresh, args.verify)
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # Prefect gives its temporary server 20 s to answer: a first start (a new PREFECT_HOME, its database
    # migrated) on a 2-core machine busy with other work took longer and the run failed before starting
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    from flows.etl import etl_flow, run_on_dask

    parameters = dict(raw_dir=str(settings.raw_dir), warehouse_dir=str(settings.warehouse_dir),
                      fiscal_year=args.fiscal_year, full_refresh=args.full_refresh, verify=args.verify)
    if args.dask_address:
        return run_on_dask(args.dask_address, **parameters)
    return etl_flow(**parameters)


def pull(args: argparse.Namespace) -> int:
    from extract.sources import SourcesConfigError
    from flows.lock import RunLockedError, warehouse_lock
    from flows.pull import sources_of
    from flows.stages import new_run_id
    from flows.stages import pull as pull_sources

    try:
        settings = Settings.from_env(raw_dir=args.raw_dir, warehouse_dir=args.warehouse_dir,
                                     s3_endpoint_url=args.endpoint_url)
        specs = sources_of(settings, args.source, args.endpoint_url)
        if not specs:
            raise SettingsError(f"no source to pull: give --source URL, set SCHOOLNET_SOURCES, or add a [[source]] "
                                f"to {settings.sources_file}")
        settings.raw_dir.mkdir(parents=True, exist_ok=True)
        with warehouse_lock(settings.warehouse_dir, settings.raw_dir), stopped_by_sigterm():
            summary = pull_sources(settings, specs, new_run_id())
    except (SettingsError, SourcesConfigError, ValueError) as exc:
        print(f"schoolnet: {printable(str(exc))}", file=sys.stderr)
        return 2
    except RunLockedError as exc:
        print(f"schoolnet: {exc}", file=sys.stderr)
        return 3
    except Stopped:
        print("schoolnet: the pull was stopped; what landed stays, with its pull_ledger rows", file=sys.stderr)
        return 130
    print(summary.as_text())
    if summary.failed:
        print(f"schoolnet: the pull failed for {len(summary.failures)} file(s) or source(s); what landed stays "
              f"(see pull_ledger): {summary.failures[0]}", file=sys.stderr)
        return 1
    return 0


class Stopped(Exception):  # noqa: N818 - a stop, not an error of the program
    """SIGTERM (or Ctrl-C) during a command that must account for what it did before it ends."""


@contextmanager
def stopped_by_sigterm() -> Iterator[None]:
    """SIGTERM and SIGINT raise Stopped in the main thread, so `finally` blocks (the pull ledger) still run."""
    def stop(signum: int, frame: object) -> None:
        raise Stopped(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def server(args: argparse.Namespace) -> int:
    from schoolnet.prefect_env import PrefectEnvError, exec_server, load_prefect_env

    try:
        load_prefect_env(create_auth=True)
    except PrefectEnvError as exc:
        print(f"schoolnet: {exc}", file=sys.stderr)
        return 2
    exec_server()
    return 1  # not reached: the process is now the Prefect server


def serve(args: argparse.Namespace) -> int:
    from schoolnet.prefect_env import PrefectEnvError, load_prefect_env, prefect_server, require_api

    try:
        settings = Settings.from_env(raw_dir=args.raw_dir, warehouse_dir=args.warehouse_dir)
        if not settings.raw_dir.is_dir():
            raise SettingsError(f"raw dir {settings.raw_dir} does not exist")
        load_prefect_env(create_auth=args.with_server)
        # the folders a run created through the API may name (flows/etl.py): the ones served, unless set
        os.environ.setdefault(RUN_ROOTS_VARIABLE, os.pathsep.join(
            str(p.resolve()) for p in (settings.raw_dir, settings.warehouse_dir)))
        from flows.deploy import NIGHTLY_CRON, nightly_deployment
        from flows.serve import run

        with stopped_by_sigterm():  # a stop before the runner handles signals itself: nothing runs yet
            deployment = nightly_deployment(settings.raw_dir, settings.warehouse_dir, args.cron or NIGHTLY_CRON)
            if args.with_server:
                with prefect_server():
                    run(deployment)
            else:
                require_api()
                run(deployment)
    except Stopped as exc:
        print(f"schoolnet: {exc} received while serve was starting: stopped, no run was in flight", file=sys.stderr)
        return 0
    except (SettingsError, PrefectEnvError) as exc:
        print(f"schoolnet: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:  # the cron expression
        print(f"schoolnet: --cron {args.cron!r}: {exc}", file=sys.stderr)
        return 2
    return 0


def trigger(args: argparse.Namespace) -> int:
    import asyncio

    from schoolnet.prefect_env import PrefectEnvError, load_prefect_env, require_api

    try:
        load_prefect_env()
        url = require_api()
        from prefect.exceptions import ObjectNotFound

        from flows.deploy import FULL_NAME, trigger, wait_for

        try:
            run = asyncio.run(trigger(args.fiscal_year, args.full_refresh, args.verify))
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


def export(args: argparse.Namespace) -> int:
    from load.export import QueryError, export_duckdb, export_tables, export_workbook

    settings = Settings.from_env(warehouse_dir=args.warehouse_dir)
    try:
        if args.xlsx:
            sheets = export_workbook(settings.warehouse_dir, args.xlsx)
            print(f"wrote {args.xlsx}: {len(sheets) - 1} questions, one sheet each")
        elif args.duckdb:
            tables = export_duckdb(settings.warehouse_dir, args.duckdb)
            print(f"wrote {args.duckdb}: {len(tables)} tables (DuckDB 1.1 and newer open it)")
        else:
            folder, fmt = (args.parquet, "parquet") if args.parquet else (args.csv, "csv")
            files = export_tables(settings.warehouse_dir, folder, fmt)
            print(f"wrote {len(files)} {fmt} files to {folder}")
    except QueryError as exc:
        print(f"schoolnet: {printable(str(exc))}", file=sys.stderr)
        return 1
    return 0


def docs(args: argparse.Namespace) -> int:
    from load.analyst import data_dictionary

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(data_dictionary() + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0
