"""The state a run reads from the warehouse: the parse cache, the previous ledger and identity registry,
and what an interrupted run left behind."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import pickle
import shutil
from collections.abc import Iterator
from dataclasses import fields
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from common.records import ParsedDump, PullRecord
from load.duck import connect, execute, literal
from load.publish import CURRENT, DUCKDB_FILE, prune_versions
from load.tables import SCHEMAS, record_dict
from transform.identity import RegistryEntry

STATE_DIR = "_state"
LEFTOVER_PREFIXES = (".staging-", ".trash-", ".chunks-", f".{DUCKDB_FILE}.", f".{CURRENT}.")
# what a parse depends on: the code that decodes and parses (its records and text normalisation included),
# and the reference file of name titles
PARSER_PACKAGES = ("common", "extract", "transform")
TITLES_FILE = "thai_name_titles.csv"


@lru_cache(maxsize=4)
def parser_fingerprint(reference_dir: str) -> str:
    """A hash of the parser's own code and of the titles it reads: a parse cached under another
    fingerprint is never used, so a parser change cannot leave unchanged files with a stale parse."""
    digest = hashlib.sha256()
    for package in PARSER_PACKAGES:
        spec = importlib.util.find_spec(package)
        for folder in (spec.submodule_search_locations or []) if spec else []:
            for path in sorted(Path(folder).glob("*.py")):
                digest.update(f"{package}/{path.name}\0".encode() + path.read_bytes())
    titles = Path(reference_dir) / TITLES_FILE
    digest.update(titles.read_bytes() if titles.exists() else b"")
    return digest.hexdigest()[:16]


class ParseCache:
    """Parsed dumps by content hash, so an unchanged file is not parsed again on the next run; kept under
    the parser's fingerprint."""

    def __init__(self, warehouse_dir: Path, reference_dir: Path):
        self.states = warehouse_dir / STATE_DIR
        self.root = self.states / f"parsed-{parser_fingerprint(str(reference_dir))}"

    def get(self, sha256: str) -> ParsedDump | None:
        path = self.root / f"{sha256}.pkl"
        try:
            with path.open("rb") as fh:
                dump = pickle.load(fh)
        except Exception:  # noqa: BLE001 - any unreadable cache entry is a miss: the file is parsed again
            return None
        return dump if isinstance(dump, ParsedDump) else None

    def put(self, sha256: str, dump: ParsedDump) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.root / f".{sha256}.{os.getpid()}.tmp"
        with tmp.open("wb") as fh:
            pickle.dump(dump, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, self.root / f"{sha256}.pkl")

    def prune_others(self) -> list[str]:
        """Remove the parses of other parser versions (called under the run lock)."""
        stale = [p for p in self.states.glob("parsed-*") if p.is_dir() and p != self.root] \
            if self.states.exists() else []
        for path in stale:
            shutil.rmtree(path, ignore_errors=True)
        return [p.name for p in stale]


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
    return removed + prune_versions(warehouse_dir)


def loaded_in_last_run(warehouse_dir: Path) -> Iterator[tuple[str, str]]:
    """(source_file, content_sha256) of each file the newest run in the ledger loaded (the ledger keeps
    every run: it is read by DuckDB, never whole into memory)."""
    files = sorted((warehouse_dir / "ingest_ledger").glob("*.parquet"))
    if not files:
        return
    source = "read_parquet([" + ", ".join(literal(str(f)) for f in files) + "])"
    con = connect(Path(":memory:"))
    try:
        cursor = execute(con, "last run's loaded files",
                         f"SELECT source_file, content_sha256 FROM {source} WHERE status IN ('loaded', 'unchanged') "
                         f"AND run_id = (SELECT max(run_id) FROM {source})")
        while batch := cursor.fetchmany(10_000):
            yield from batch
    finally:
        con.close()


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
