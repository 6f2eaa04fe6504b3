"""Writing the warehouse: Parquet per table (facts per fiscal year), built aside, then swapped in,
then the DuckDB file of views analysts open, replaced in one rename."""

from __future__ import annotations

import os
import pickle
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from load.duck import connect, execute, identifier, literal, sql_file
from load.tables import FACT_TABLES, SCHEMAS, STAGED_TABLES
from schoolnet.settings import SQL_DIR
from transform.identity import RegistryEntry
from transform.records import ParsedDump

DUCKDB_FILE = "warehouse.duckdb"
STATE_DIR = "_state"
PARSER_VERSION = "1"  # bump when a parser change must invalidate cached parses
# facts are sorted; the audit tables keep the chunks' order, which is the sorted order of the files
ORDER_BY = {"fact_monthly_progress": "project_key, report_no", "fact_disbursement": "project_key, report_no"}
LEFTOVER_PREFIXES = (".staging-", ".trash-", ".chunks-", f".{DUCKDB_FILE}.")


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


def clean_leftovers(warehouse_dir: Path) -> list[str]:
    """Remove what an interrupted run left aside (called under the run lock, before a run starts)."""
    removed = []
    for path in sorted(warehouse_dir.glob(".*")):
        if path.name.startswith(LEFTOVER_PREFIXES):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            removed.append(path.name)
    return removed


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


def publish(warehouse_dir: Path, tables: dict[str, pa.Table], run_id: str, fiscal_year: int | None = None,
            chunks_dir: Path | None = None, chosen_files: Sequence[str] = ()) -> list[CheckFailure]:
    """Write every table aside, run the SQL checks on it, then swap it in and rebuild the DuckDB file.

    Facts come from the chunks staged while parsing, keeping the rows of `chosen_files` only.
    With fiscal_year, fact tables replace only that year's partition; other years' files are untouched.
    Returns the check failures, which are also appended to dq_issue before the swap.
    """
    warehouse_dir.mkdir(parents=True, exist_ok=True)
    staging = warehouse_dir / f".staging-{run_id}"
    shutil.rmtree(staging, ignore_errors=True)
    units = _write_units(staging, tables)
    fact_units, years = assemble_staged(staging, chunks_dir, chosen_files, fiscal_year)
    units += fact_units
    names = sorted({*tables, *STAGED_TABLES})
    failures = run_checks(_views_for(staging, names, warehouse_dir, fiscal_year))
    if failures:
        dq = tables["dq_issue"].to_pylist() + [
            {"source_file": f.source_file, "project_key": f.project_key, "check_name": f.check_name,
             "severity": "error", "detail": f.detail} for f in failures]
        tables = {**tables, "dq_issue": pa.Table.from_pylist(dq, schema=SCHEMAS["dq_issue"])}
        shutil.rmtree(staging / "dq_issue")
        _write_units(staging, {"dq_issue": tables["dq_issue"]})
    _swap_in(staging, units, warehouse_dir, run_id, years, fiscal_year)
    _write_duckdb(warehouse_dir, names, run_id)
    shutil.rmtree(staging, ignore_errors=True)
    if chunks_dir is not None:
        shutil.rmtree(chunks_dir, ignore_errors=True)
    return failures


def assemble_staged(staging: Path, chunks_dir: Path | None, chosen_files: Sequence[str],
                    fiscal_year: int | None) -> tuple[list[Path], dict[str, set[int]]]:
    """Staged chunks -> one Parquet file per fact partition (and per other staged table), written by
    DuckDB with bounded memory, keeping the rows of the chosen source files, in a deterministic order."""
    con = connect(Path(":memory:"))
    # bounded memory: DuckDB spills to disk beyond this, so a large corpus costs time, not RAM
    execute(con, "memory limit", "SET memory_limit = '256MB'")
    execute(con, "spill folder", f"SET temp_directory = {literal(str(staging / '.duckdb-spill'))}")
    con.register("chosen_files", pa.table({"source_file": pa.array(list(chosen_files), type=pa.string())}))
    execute(con, "chosen files", "CREATE TEMP TABLE chosen AS SELECT DISTINCT source_file FROM chosen_files")
    units: list[Path] = []
    years: dict[str, set[int]] = {}
    for name in STAGED_TABLES:
        files = sorted((chunks_dir / name).glob("chunk-*.parquet")) if chunks_dir else []
        empty = staging / name / "part-empty.parquet"
        _write_parquet(SCHEMAS[name].empty_table(), empty)
        source = ("read_parquet([" + ", ".join(literal(str(f)) for f in files) + "])") if files \
            else f"read_parquet({literal(str(empty))})"
        kept = f"(SELECT * FROM {source} WHERE source_file IN (SELECT source_file FROM chosen))"
        order = ORDER_BY.get(name)
        if name in FACT_TABLES:  # one scan of the chunks into a sorted table, then one file per year
            execute(con, f"sort {name}", f"CREATE TEMP TABLE sorted_{name} AS SELECT * FROM {kept} t ORDER BY {order}")
            found = {r[0] for r in execute(con, f"years of {name}",
                                           f"SELECT DISTINCT fiscal_year FROM sorted_{name}").fetchall()}
            years[name] = found
            for year in ([fiscal_year] if fiscal_year is not None else sorted(found)):
                unit = staging / name / f"fiscal_year={int(year)}"
                unit.mkdir(parents=True, exist_ok=True)
                execute(con, f"write {name} {year}",
                        f"COPY (SELECT * FROM sorted_{name} WHERE fiscal_year = {int(year)}) "
                        f"TO {literal(str(unit / 'part-0.parquet'))} (FORMAT parquet, COMPRESSION zstd)")
                units.append(unit)
            execute(con, f"drop {name}", f"DROP TABLE sorted_{name}")
        else:
            unit = staging / name
            target = literal(str(unit / "part-0.parquet"))
            execute(con, f"write {name}",
                    f"COPY (SELECT * FROM {kept} t) TO {target} (FORMAT parquet, COMPRESSION zstd)")
            empty.unlink()
            units.append(unit)
    con.close()
    return units, years


def _write_units(staging: Path, tables: dict[str, pa.Table]) -> list[Path]:
    """Each table not staged from chunks is a unit: a folder swapped in whole."""
    units: list[Path] = []
    for name, table in tables.items():
        unit = staging / identifier(name)
        _write_parquet(table, unit / "part-0.parquet")
        units.append(unit)
    return units


def _write_parquet(table: pa.Table, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, compression="zstd")


def _swap_in(staging: Path, units: Iterable[Path], warehouse_dir: Path, run_id: str,
             years: dict[str, set[int]], fiscal_year: int | None) -> None:
    trash = warehouse_dir / f".trash-{run_id}"
    trash.mkdir(parents=True, exist_ok=True)
    for unit in units:
        final = warehouse_dir / unit.relative_to(staging)
        final.parent.mkdir(parents=True, exist_ok=True)
        if final.exists():
            os.replace(final, trash / f"{final.parent.name}.{final.name}")
        os.replace(unit, final)
    for name in FACT_TABLES:
        empty = warehouse_dir / name / "part-empty.parquet"
        if not empty.exists():
            os.replace(staging / name / "part-empty.parquet", empty)
        if fiscal_year is None:  # a full rebuild drops partitions of years no longer present
            kept = {f"fiscal_year={int(y)}" for y in years.get(name, set())}
            for part in (warehouse_dir / name).glob("fiscal_year=*"):
                if part.name not in kept:
                    os.replace(part, trash / f"{name}.{part.name}")
    shutil.rmtree(trash, ignore_errors=True)


def _views_for(root: Path, tables: Sequence[str], fallback: Path, fiscal_year: int | None):
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


def _write_duckdb(warehouse_dir: Path, tables: Sequence[str], run_id: str) -> None:
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
