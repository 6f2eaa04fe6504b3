"""The state a run reads from the warehouse: the parser's fingerprint, the previous identity registry, the
pull ledger, and what an interrupted run left behind (the document store is load/store.py's)."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
from dataclasses import fields
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from common.records import PullRecord
from common.settings import SQL_DIR
from load.duck import connect, execute, literal
from load.layout import CURRENT, DUCKDB_FILE, STATE_DIR, prune_versions
from load.tables import SCHEMAS, record_dict
from transform.identity import RegistryEntry

LEFTOVER_PREFIXES = (".staging-", ".trash-", ".chunks-", f".{DUCKDB_FILE}.", f".{CURRENT}.")
# what a parse depends on: the code that decodes and parses (its records and text normalisation included),
# and the reference file of name titles
PARSER_PACKAGES = ("common", "extract", "transform")
TITLES_FILE = "thai_name_titles.csv"


def parser_fingerprint(reference_dir: str) -> str:
    """A hash of the parser's own code and of the titles it reads: the document store of another
    fingerprint is never used, so a parser change cannot leave unchanged files with a stale parse."""
    titles = Path(reference_dir) / TITLES_FILE
    digest = hashlib.sha256(_code_fingerprint().encode() + (titles.read_bytes() if titles.exists() else b""))
    return digest.hexdigest()[:16]


@lru_cache(maxsize=1)
def assembly_fingerprint() -> str:
    """A hash of what turns the store into tables (the load package's code, sql/): a version built by other
    code is not carried over; every table is written again from the store."""
    digest = hashlib.sha256()
    for path in sorted([*Path(__file__).parent.glob("*.py"), *SQL_DIR.rglob("*.sql"), *SQL_DIR.rglob("*.toml")]):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


@lru_cache(maxsize=1)
def _code_fingerprint() -> str:
    """The parser's code, read once per process (a process runs the code it imported)."""
    digest = hashlib.sha256()
    for package in PARSER_PACKAGES:
        spec = importlib.util.find_spec(package)
        for folder in (spec.submodule_search_locations or []) if spec else []:
            for path in sorted(Path(folder).glob("*.py")):
                digest.update(f"{package}/{path.name}\0".encode() + path.read_bytes())
    return digest.hexdigest()


def clean_leftovers(warehouse_dir: Path) -> list[str]:
    """Remove what an interrupted run left (called under the run lock, before a run starts): staging
    folders, temporary files, and versions that never became current."""
    removed = []
    for path in sorted(warehouse_dir.glob(".*")):
        if path.name.startswith(LEFTOVER_PREFIXES):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            removed.append(path.name)
    for path in sorted((warehouse_dir / STATE_DIR).glob("parsed-*")):  # the parse cache of releases before the store
        shutil.rmtree(path, ignore_errors=True)
        removed.append(f"{STATE_DIR}/{path.name}")
    return removed + prune_versions(warehouse_dir)


def read_previous_registry(warehouse_dir: Path) -> list[RegistryEntry]:
    """Identities published by earlier runs (their ids must not change)."""
    files = sorted((warehouse_dir / "entity_registry").glob("*.parquet"))
    if not files:
        return []
    rows = pa.concat_tables([pq.read_table(f, schema=SCHEMAS["entity_registry"]) for f in files]).to_pylist()
    return [RegistryEntry(r["entity_type"], r["canonical_id"], r["canonical_name"], r["phone"], r["district_id"],
                          tuple(r["spellings"] or ()), r["first_run_id"]) for r in rows]


# -- the pull ledger: one Parquet file per pull, in the state; every published version links them -----------

PULL_LEDGER_DIR = "pull_ledger"


def write_pull_ledger(warehouse_dir: Path, run_id: str, records: list[PullRecord], pulled_at: datetime) -> Path:
    """This pull's rows as _state/pull_ledger/run-<run_id>.parquet, written in one rename."""
    folder = warehouse_dir / STATE_DIR / PULL_LEDGER_DIR
    folder.mkdir(parents=True, exist_ok=True)
    rows = [{"run_id": run_id, **record_dict(r), "pulled_at": pulled_at} for r in records]
    table = pa.Table.from_pylist(rows, schema=SCHEMAS["pull_ledger"])
    tmp, target = folder / f".run-{run_id}.parquet.tmp", folder / f"run-{run_id}.parquet"
    pq.write_table(table, tmp, compression="zstd")
    os.replace(tmp, target)
    return target


def pull_ledger_files(warehouse_dir: Path) -> list[Path]:
    return sorted((warehouse_dir / STATE_DIR / PULL_LEDGER_DIR).glob("run-*.parquet"))


def last_pulls(warehouse_dir: Path) -> dict[str, dict[str, PullRecord]]:
    """The latest record of every remote file of every source (source URL -> remote path -> record)."""
    files = pull_ledger_files(warehouse_dir)
    if not files:
        return {}
    source = "read_parquet([" + ", ".join(literal(str(f)) for f in files) + "])"
    con = connect(Path(":memory:"))
    try:
        rows = execute(con, "last pulls", f"SELECT {', '.join(PULL_FIELDS)} FROM {source} WHERE remote_path <> '' "
                                          "QUALIFY row_number() OVER (PARTITION BY source, remote_path "
                                          "ORDER BY run_id DESC) = 1").fetchall()
    finally:
        con.close()
    out: dict[str, dict[str, PullRecord]] = {}
    for row in rows:
        record = PullRecord(*row)
        out.setdefault(record.source, {})[record.remote_path] = record
    return out


PULL_FIELDS = tuple(f.name for f in fields(PullRecord))
