"""Writing the warehouse: Parquet per table (facts per fiscal year), built aside, then swapped in,
then the DuckDB file of views analysts open, replaced in one rename."""

from __future__ import annotations

import os
import pickle
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from load.duck import connect, execute, identifier, literal, sql_file
from load.tables import FACT_TABLES, SCHEMAS
from schoolnet.settings import SQL_DIR
from transform.identity import RegistryEntry
from transform.records import ParsedDump

DUCKDB_FILE = "warehouse.duckdb"
STATE_DIR = "_state"
PARSER_VERSION = "1"  # bump when a parser change must invalidate cached parses


@dataclass(frozen=True)
class CheckFailure:
    check_name: str
    project_key: str | None
    source_file: str | None
    detail: str


class ParseCache:
    """Parsed dumps by content hash, so an unchanged file is not parsed again on the next run."""

    def __init__(self, warehouse_dir: Path):
        self.root = warehouse_dir / STATE_DIR / f"parsed-v{PARSER_VERSION}"

    def get(self, sha256: str) -> ParsedDump | None:
        path = self.root / f"{sha256}.pkl"
        try:
            with path.open("rb") as fh:
                dump = pickle.load(fh)
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
            return None
        return dump if isinstance(dump, ParsedDump) else None

    def put(self, sha256: str, dump: ParsedDump) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.root / f".{sha256}.{os.getpid()}.tmp"
        with tmp.open("wb") as fh:
            pickle.dump(dump, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, self.root / f"{sha256}.pkl")


def read_previous_ledger(warehouse_dir: Path) -> pa.Table:
    files = sorted((warehouse_dir / "ingest_ledger").glob("*.parquet"))
    if not files:
        return SCHEMAS["ingest_ledger"].empty_table()
    return pa.concat_tables([pq.read_table(f, schema=SCHEMAS["ingest_ledger"]) for f in files])


def read_previous_registry(warehouse_dir: Path) -> list[RegistryEntry]:
    """Identities published by earlier runs (their ids must not change)."""
    files = sorted((warehouse_dir / "entity_registry").glob("*.parquet"))
    if not files:
        return []
    rows = pa.concat_tables([pq.read_table(f, schema=SCHEMAS["entity_registry"]) for f in files]).to_pylist()
    return [RegistryEntry(r["entity_type"], r["canonical_id"], r["canonical_name"], r["phone"], r["district_id"],
                          tuple(r["spellings"] or ()), r["first_run_id"]) for r in rows]


def publish(warehouse_dir: Path, tables: dict[str, pa.Table], run_id: str,
            fiscal_year: int | None = None) -> list[CheckFailure]:
    """Write every table aside, run the SQL checks on it, then swap it in and rebuild the DuckDB file.

    With fiscal_year, fact tables replace only that year's partition; other years' files are untouched.
    Returns the check failures, which are also appended to dq_issue before the swap.
    """
    warehouse_dir.mkdir(parents=True, exist_ok=True)
    staging = warehouse_dir / f".staging-{run_id}"
    shutil.rmtree(staging, ignore_errors=True)
    units = _write_units(staging, tables, fiscal_year)
    failures = run_checks(_views_for(staging, tables, warehouse_dir, fiscal_year))
    if failures:
        dq = tables["dq_issue"].to_pylist() + [
            {"source_file": f.source_file, "project_key": f.project_key, "check_name": f.check_name,
             "severity": "error", "detail": f.detail} for f in failures]
        tables = {**tables, "dq_issue": pa.Table.from_pylist(dq, schema=SCHEMAS["dq_issue"])}
        shutil.rmtree(staging / "dq_issue")
        _write_units(staging, {"dq_issue": tables["dq_issue"]}, None)
    _swap_in(staging, units, warehouse_dir, run_id, tables, fiscal_year)
    _write_duckdb(warehouse_dir, tables, run_id)
    shutil.rmtree(staging, ignore_errors=True)
    return failures


def _write_units(staging: Path, tables: dict[str, pa.Table], fiscal_year: int | None) -> list[Path]:
    """Each table (dims) or fiscal-year partition (facts) is a unit: a folder swapped in whole."""
    units: list[Path] = []
    for name, table in tables.items():
        identifier(name)
        if name in FACT_TABLES:
            years = sorted(set(table.column("fiscal_year").to_pylist()))
            if fiscal_year is not None:
                years = [fiscal_year]
            for year in years:
                part = table.filter(pc.equal(table.column("fiscal_year"), year))
                unit = staging / name / f"fiscal_year={int(year)}"
                if part.num_rows or fiscal_year is not None:
                    _write_parquet(part, unit / "part-0.parquet")
                    units.append(unit)
            _write_parquet(table.schema.empty_table(), staging / name / "part-empty.parquet")
        else:
            unit = staging / name
            _write_parquet(table, unit / "part-0.parquet")
            units.append(unit)
    return units


def _write_parquet(table: pa.Table, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, compression="zstd")


def _swap_in(staging: Path, units: Iterable[Path], warehouse_dir: Path, run_id: str,
             tables: dict[str, pa.Table], fiscal_year: int | None) -> None:
    trash = warehouse_dir / f".trash-{run_id}"
    trash.mkdir(parents=True, exist_ok=True)
    for unit in units:
        final = warehouse_dir / unit.relative_to(staging)
        final.parent.mkdir(parents=True, exist_ok=True)
        if final.exists():
            os.replace(final, trash / f"{final.parent.name}.{final.name}")
        os.replace(unit, final)
    for name in FACT_TABLES:
        if name not in tables:
            continue
        empty = warehouse_dir / name / "part-empty.parquet"
        if not empty.exists():
            os.replace(staging / name / "part-empty.parquet", empty)
        if fiscal_year is None:  # a full rebuild drops partitions of years no longer present
            kept = {f"fiscal_year={int(y)}" for y in set(tables[name].column("fiscal_year").to_pylist())}
            for part in (warehouse_dir / name).glob("fiscal_year=*"):
                if part.name not in kept:
                    os.replace(part, trash / f"{name}.{part.name}")
    shutil.rmtree(trash, ignore_errors=True)


def _views_for(root: Path, tables: dict[str, pa.Table], fallback: Path, fiscal_year: int | None):
    """A temporary in-memory DuckDB with views over the staged files (other years from the live ones)."""
    con = connect(Path(":memory:"))
    for name in tables:
        globs = [str((root / name).resolve() / "**" / "*.parquet")]
        if fiscal_year is not None and name in FACT_TABLES and (fallback / name).exists():
            globs += [str(p.resolve() / "*.parquet") for p in (fallback / name).glob("fiscal_year=*")
                      if p.name != f"fiscal_year={fiscal_year}"]
        glob_sql = "[" + ", ".join(literal(g) for g in globs) + "]"
        execute(con, f"view {name}", sql_file("views/table_view.sql").format(table=identifier(name),
                                                                             glob=glob_sql))
    return con


def run_checks(con) -> list[CheckFailure]:  # noqa: ANN001 - a DuckDB connection
    """Every sql/checks/*.sql returns its offending rows; zero rows is a pass."""
    failures: list[CheckFailure] = []
    for path in sorted((SQL_DIR / "checks").glob("*.sql")):
        rows = execute(con, f"check {path.stem}", path.read_text(encoding="utf-8")).fetchall()
        failures.extend(CheckFailure(path.stem, r[0], r[1], r[2]) for r in rows)
    con.close()
    return failures


def _write_duckdb(warehouse_dir: Path, tables: dict[str, pa.Table], run_id: str) -> None:
    """A new DuckDB file of views over the live Parquet files, renamed over the old one in one step."""
    tmp = warehouse_dir / f".{DUCKDB_FILE}.{run_id}.tmp"
    tmp.unlink(missing_ok=True)
    con = connect(tmp)
    try:
        for name in sorted(tables):
            glob = literal(str((warehouse_dir / name).resolve() / "**" / "*.parquet"))
            execute(con, f"view {name}", sql_file("views/table_view.sql").format(table=identifier(name),
                                                                                 glob=glob))
        execute(con, "checkpoint", "CHECKPOINT")
    finally:
        con.close()
    os.replace(tmp, warehouse_dir / DUCKDB_FILE)
