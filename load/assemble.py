"""The warehouse tables built from what the parsing workers staged, in DuckDB with bounded memory.

Facts, votes and plan steps are kept for each project's chosen source (facts sorted, one fiscal year at
a time); dim_project, the bridge, entity_alias, dq_issue and this run's ingest_ledger rows are the marts
of sql/marts, joining the staged per-document rows to the resolved identities (sql/staging prepares
what they share). The database is on disk with a memory limit, and no statement sorts the whole corpus
(the per-mention tables stream in their staged order), so a larger corpus costs time, not memory.
"""

from __future__ import annotations

import os
import shutil
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from load.duck import connect, execute, identifier, literal
from load.models import Model, load_project
from load.tables import FACT_TABLES, LOOKUP_SCHEMAS, SCHEMAS, STAGED_TABLES, WORK_SCHEMAS

MEMORY_LIMIT = "128MB"
# facts are sorted; the audit tables keep the chunks' order, which is the sorted order of the files
ORDER_BY = {"fact_monthly_progress": "project_key, report_no", "fact_disbursement": "project_key, report_no"}


class AssemblyError(RuntimeError):
    """The staged rows do not account for every file: nothing is published."""


@dataclass(frozen=True)
class RunInfo:
    run_id: str
    recorded_at: datetime
    files_seen: int
    fiscal_year: int | None = None


def assemble(version: Path, chunks_dir: Path, lookups: dict[str, pa.Table], previous: Path | None,
             run: RunInfo) -> Counter[str]:
    """Write every staged and mart table of a new version; returns this run's dq findings by check name."""
    scratch = version / ".assembly"
    scratch.mkdir(parents=True, exist_ok=True)
    # a database on disk, not in memory: what the staging models build can leave memory for disk
    con = connect(scratch / "assembly.duckdb")
    try:
        execute(con, "memory limit", f"SET memory_limit = {literal(MEMORY_LIMIT)}")
        execute(con, "spill folder", f"SET temp_directory = {literal(str(scratch / 'spill'))}")
        _inputs(con, chunks_dir, lookups, run)
        _check_accounting(con, run.files_seen)
        project = load_project()
        for model in project.staging:
            kind = "TABLE" if model.materialized == "table" else "VIEW"
            execute(con, f"staging {model.name}", f"CREATE {kind} {identifier(model.name)} AS {model.select()}")
        for name in STAGED_TABLES:
            _write_staged(con, version, name, run.fiscal_year)
        for model in project.marts:
            _write_mart(con, version, model, run)
        _link_earlier_ledgers(previous, version)
        dq = literal(str(version / "dq_issue" / "part-0.parquet"))
        rows = execute(con, "dq findings", f"SELECT check_name, count(*) FROM read_parquet({dq}) GROUP BY 1").fetchall()
        return Counter(dict(rows))
    finally:
        con.close()
        shutil.rmtree(scratch, ignore_errors=True)


def _inputs(con: duckdb.DuckDBPyConnection, chunks_dir: Path, lookups: dict[str, pa.Table], run: RunInfo) -> None:
    """What the models read: the staged chunks as views, the resolved identities as tables, run_info."""
    for name in (*STAGED_TABLES, *WORK_SCHEMAS):
        _stage_view(con, name, sorted((chunks_dir / name).glob("chunk-*.parquet")))
    for name, table in lookups.items():  # as tables of the database, whose sizes the planner knows
        con.register("lookup", table.cast(LOOKUP_SCHEMAS[name]))
        execute(con, f"lookup {name}", f"CREATE TABLE {identifier(name)} AS SELECT * FROM lookup")
        con.unregister("lookup")
    recorded_at = SCHEMAS["ingest_ledger"].field("recorded_at").type
    con.register("run_info", pa.table({"run_id": [run.run_id], "recorded_at": [run.recorded_at]},
                                      schema=pa.schema([("run_id", pa.string()), ("recorded_at", recorded_at)])))


def _write_mart(con: duckdb.DuckDBPyConnection, version: Path, model: Model, run: RunInfo) -> None:
    """A mart as its published Parquet file, checked against the contract's columns and types. The ledger
    is written per run (earlier runs' files are linked as they are)."""
    name = model.name
    target = version / name / ("part-0.parquet" if name != "ingest_ledger" else f"run-{run.run_id}.parquet")
    target.parent.mkdir(parents=True, exist_ok=True)
    execute(con, f"mart {name}",
            f"COPY ({model.select()}) TO {literal(str(target))} (FORMAT parquet, COMPRESSION zstd)")
    _check_schema(name, target)


def _link_earlier_ledgers(previous: Path | None, version: Path) -> None:
    """The earlier runs' ledger files, as they are (hard links: no copy, however long the history)."""
    if previous is None:
        return
    for path in sorted((previous / "ingest_ledger").glob("*.parquet")):
        target = version / "ingest_ledger" / path.name
        if not target.exists():
            os.link(path, target)


def _stage_view(con: duckdb.DuckDBPyConnection, name: str, files: list[Path]) -> None:
    _view(con, name, files, SCHEMAS.get(name) or WORK_SCHEMAS[name])


def _view(con: duckdb.DuckDBPyConnection, name: str, files: list[Path], schema: pa.Schema) -> None:
    if files:
        listed = ", ".join(literal(str(f)) for f in files)
        execute(con, f"view {name}", f"CREATE TEMP VIEW {identifier(name)} AS SELECT * FROM "
                                     f"read_parquet([{listed}], hive_partitioning = false)")
    else:
        con.register(identifier(name), schema.empty_table())


def _check_accounting(con: duckdb.DuckDBPyConnection, files_seen: int) -> None:
    """Every file discovered has exactly one ledger row, with a known status."""
    rows, names, known = execute(con, "accounting", "SELECT count(*), count(DISTINCT source_file), "
                                 "count(*) FILTER (status IN ('loaded', 'quarantined', 'unchanged')) "
                                 "FROM stg_ledger").fetchone()
    if not rows == names == known == files_seen:
        raise AssemblyError(f"accounting error: {files_seen} files seen, {rows} ledger rows for {names} names, "
                            f"{known} with a known status")


def _write_staged(con: duckdb.DuckDBPyConnection, version: Path, name: str, fiscal_year: int | None) -> None:
    """The rows of the loaded files; a fact table as one Parquet file per fiscal year (only fiscal_year's
    when given: the caller links the other years' files from the previous version)."""
    kept = f"SELECT * FROM {identifier(name)} WHERE source_file IN (SELECT source_file FROM loaded_files)"
    if name not in FACT_TABLES:
        target = version / name / "part-0.parquet"
        target.parent.mkdir(parents=True, exist_ok=True)
        execute(con, f"write {name}", f"COPY ({kept}) TO {literal(str(target))} (FORMAT parquet, COMPRESSION zstd)")
        return
    # one sorted file per year, sorted one year at a time: memory is bounded by a year's facts, not all
    years = sorted(r[0] for r in execute(con, f"years of {name}",
                                         f"SELECT DISTINCT fiscal_year FROM {identifier(name)}").fetchall())
    if not years and fiscal_year is None:  # an empty table still has its folder and schema
        _write_empty(version / name / "part-0.parquet", SCHEMAS[name])
    for year in ([fiscal_year] if fiscal_year is not None else years):
        folder = version / name / f"fiscal_year={int(year)}"
        folder.mkdir(parents=True, exist_ok=True)
        execute(con, f"write {name} {year}",
                f"COPY ({kept} AND fiscal_year = {int(year)} ORDER BY {ORDER_BY[name]}) "
                f"TO {literal(str(folder / 'part-0.parquet'))} (FORMAT parquet, COMPRESSION zstd)")


def _write_empty(path: Path, schema: pa.Schema) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(schema.empty_table(), path, compression="zstd")


def _check_schema(name: str, path: Path) -> None:
    """A mart must have exactly the contract's columns and types."""
    got = pq.read_schema(path)
    want = SCHEMAS[name]
    if [(f.name, f.type) for f in got] != [(f.name, f.type) for f in want]:
        raise AssemblyError(f"{name} was built with columns {got} instead of {want}")
