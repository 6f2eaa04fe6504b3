"""The published layout of a warehouse folder, and the views every reader meets it through:

    warehouse/
      .schoolnet-warehouse                   (the marker: this folder is a schoolnet warehouse)
      current -> versions/<run_id>           (replaced atomically)
      versions/<run_id>/<table>/...          (complete snapshots; two older ones are kept for readers)
      <table> -> current/<table>             (the contract's paths; yearly tables in fiscal_year=<BE>/ folders)
      report -> current/report               (report/index.html: the run's report for people)
      warehouse.duckdb                       (views over current/, with comments; written read-only)

This module owns where things are and what the views say; load/publish.py decides when a version becomes
current. The views of warehouse.duckdb name `<warehouse>/current/<table>` by its absolute path, so the file
opens from any working directory and in any client with no setting, and a session opened before a run reads
the current version after it (a statement reads whole files of one version; two tables read while a run
switches `current` may come from consecutive versions). A moved or copied folder: `schoolnet query` and
`schoolnet.connect` point the views at the folder they open (the DuckDB variable schoolnet_warehouse); any other
client runs `SET VARIABLE schoolnet_warehouse = '<the folder>'` once, or the next `schoolnet run` rewrites the
file for its new place.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

import duckdb

from common.settings import SQL_DIR
from load.duck import connect, execute, identifier, literal
from load.tables import PARTITION_COLUMN, SCHEMAS, STAGED_TABLES

DUCKDB_FILE = "warehouse.duckdb"
# the storage format of warehouse.duckdb: DuckDB 2.0's own is unreadable by 1.x ("version number 999");
# v1.0.0 (format 64) is read by every DuckDB from 1.0 on (tested with 1.1.0 and 1.4.5)
STORAGE_VERSION = "v1.0.0"
VERSIONS = "versions"
CURRENT = "current"
MARKER = ".schoolnet-warehouse"
ROOT_VARIABLE = "schoolnet_warehouse"  # a DuckDB variable that points the views at a moved folder
READ_ONLY = 0o444  # published files: an analyst's tool cannot write into them by accident
DUCKDB_DIGEST = "warehouse.duckdb.sha256"  # in the state: what the last run wrote, to tell a file someone changed
PUBLISHED = "published.json"  # in the state: every file of the current version as the run wrote it
STATE_DIR = "_state"


def current_version(warehouse_dir: Path) -> Path | None:
    link = warehouse_dir / CURRENT
    return link.resolve() if link.is_symlink() and link.exists() else None


def view_sql(name: str, files: str) -> str:
    """The view of one table over the Parquet files the SQL expression `files` globs: the table's columns in
    their declared order and types; a yearly table's fiscal year read from its folder names."""
    if name in STAGED_TABLES:
        columns = ", ".join(f"CAST({f.name} AS INTEGER) AS {f.name}" if f.name == PARTITION_COLUMN else f.name
                            for f in SCHEMAS[name])
        source = f"read_parquet({files}, hive_partitioning = true, union_by_name = true)"
    else:
        columns, source = "*", f"read_parquet({files}, hive_partitioning = false, union_by_name = true)"
    return f"CREATE OR REPLACE VIEW {identifier(name)} AS SELECT {columns} FROM {source}"


def create_views(con: duckdb.DuckDBPyConnection, root: Path, names: Sequence[str]) -> None:
    """Views over the tables of one folder (a version being built, for the checks and the report)."""
    for name in names:
        execute(con, f"view {name}", view_sql(name, literal((root / name).as_posix() + "/**/*.parquet")))


def write_duckdb(warehouse_dir: Path, names: Sequence[str], run_id: str) -> None:
    """A new warehouse.duckdb of commented views over current/, written aside and renamed over the old one in
    one step (an open connection keeps the file it opened), read-only on disk; in DuckDB's storage format
    STORAGE_VERSION, which every DuckDB from 1.0 on reads."""
    root = warehouse_dir.resolve()
    if current_version(root) is None:
        raise FileNotFoundError(f"{warehouse_dir} has no current version to describe")
    tmp = root / f".{DUCKDB_FILE}.{run_id}.tmp"
    tmp.unlink(missing_ok=True)
    con = connect(Path(":memory:"))
    try:
        execute(con, "attach", f"ATTACH {literal(str(tmp))} AS warehouse (STORAGE_VERSION {literal(STORAGE_VERSION)})")
        execute(con, "use", "USE warehouse")
        folder = f"coalesce(getvariable({literal(ROOT_VARIABLE)}), {literal(root.as_posix())})"
        for name in names:
            execute(con, f"view {name}", view_sql(name, f"{folder} || {literal(f'/{CURRENT}/{name}/**/*.parquet')}"))
        for statement in comment_statements():
            execute(con, "comment", statement)
        execute(con, "checkpoint", "CHECKPOINT warehouse")
        execute(con, "use memory", "USE memory")
        execute(con, "detach", "DETACH warehouse")
    finally:
        con.close()
    os.chmod(tmp, READ_ONLY)
    os.replace(tmp, root / DUCKDB_FILE)
    record_duckdb(root, root / STATE_DIR)


def comment_statements() -> list[str]:
    path = SQL_DIR / "views" / "comments.sql"
    if not path.exists():
        return []
    text = "\n".join(ln for ln in path.read_text(encoding="utf-8").splitlines() if not ln.lstrip().startswith("--"))
    return [s.strip() for s in text.split(";\n") if s.strip()]


def ensure_table_links(warehouse_dir: Path, names: Sequence[str]) -> None:
    """<table> -> current/<table> (and report -> current/report), the paths of the contract (a folder of an
    older layout goes)."""
    for name in names:
        link = warehouse_dir / name
        if link.is_symlink():
            continue
        if link.exists():
            shutil.rmtree(link)
        link.symlink_to(Path(CURRENT) / name, target_is_directory=True)


def switch_current(warehouse_dir: Path, version: Path) -> None:
    tmp = warehouse_dir / f".{CURRENT}.{version.name}.tmp"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(Path(VERSIONS) / version.name, target_is_directory=True)
    os.replace(tmp, warehouse_dir / CURRENT)
    fd = os.open(warehouse_dir, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def prune_versions(warehouse_dir: Path, keep_previous: int = 2) -> list[str]:
    """Keep the current version and the newest `keep_previous` older ones (readers may still be on them);
    versions of runs that never became current are removed."""
    current = current_version(warehouse_dir)
    versions = sorted((warehouse_dir / VERSIONS).glob("*")) if (warehouse_dir / VERSIONS).exists() else []
    if current is None:
        return []
    older = [v for v in versions if v.name < current.name]
    keep = {current.name, *(v.name for v in older[-keep_previous:])} if keep_previous else {current.name}
    removed = []
    for v in versions:
        if v.name not in keep:
            shutil.rmtree(v, ignore_errors=True)
            removed.append(v.name)
    return removed


def file_digest(path: Path) -> str | None:
    try:
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            while piece := fh.read(1 << 20):
                digest.update(piece)
        return digest.hexdigest()
    except OSError:
        return None


def record_duckdb(warehouse_dir: Path, state_dir: Path) -> None:
    """Remember what this run wrote as warehouse.duckdb (the next run tells a file someone changed)."""
    state_dir.mkdir(parents=True, exist_ok=True)
    digest = file_digest(warehouse_dir / DUCKDB_FILE)
    (state_dir / DUCKDB_DIGEST).write_text(json.dumps({"sha256": digest}), encoding="utf-8")


def keep_changed_duckdb(warehouse_dir: Path, state_dir: Path, run_id: str) -> Path | None:
    """warehouse.duckdb as someone changed it since the last run wrote it (a table created by an analyst in a
    read-write session): moved aside to warehouse.duckdb.changed-<run>, never silently replaced. Returns where
    it went, or None when the file is the one the last run wrote (or there is none)."""
    path = warehouse_dir / DUCKDB_FILE
    recorded = state_dir / DUCKDB_DIGEST
    if not path.exists() or not recorded.exists():
        return None
    try:
        expected = json.loads(recorded.read_text(encoding="utf-8")).get("sha256")
    except (OSError, ValueError):
        return None
    if file_digest(path) == expected:
        return None
    kept = warehouse_dir / f"{DUCKDB_FILE}.changed-{run_id}"
    os.link(path, kept)  # a second name: readers keep finding warehouse.duckdb until the new one replaces it
    return kept


def _stat_of(path: Path) -> list[int]:
    st = path.lstat()
    return [st.st_size, st.st_mtime_ns, st.st_ino]


def _version_files(version: Path) -> dict[str, Path]:
    return {p.relative_to(version).as_posix(): p for p in sorted(version.rglob("*")) if p.is_file() or p.is_symlink()}


def _read_record(warehouse_dir: Path) -> dict:
    try:
        return json.loads((warehouse_dir / STATE_DIR / PUBLISHED).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def record_published(warehouse_dir: Path, version: Path) -> None:
    """Remember every file of the version a run makes current: its stat (size, mtime, inode) and its SHA-256,
    so the next run tells a file someone added, replaced or rewrote. A file carried over from the version
    before (a hard link: the same stat) keeps the hash recorded then; only new files are read."""
    before = {}
    for entry in _read_record(warehouse_dir).get("files", {}).values():
        if len(entry) == 4:
            before[tuple(entry[:3])] = entry[3]
    files = {}
    for name, path in _version_files(version).items():
        stat_now = _stat_of(path)
        digest = before.get(tuple(stat_now)) or file_digest(path)
        files[name] = [*stat_now, digest]
    state = warehouse_dir / STATE_DIR
    state.mkdir(parents=True, exist_ok=True)
    tmp = state / f".{PUBLISHED}.tmp"
    tmp.write_text(json.dumps({"version": version.name, "files": files}), encoding="utf-8")
    os.replace(tmp, state / PUBLISHED)


def published_changes(warehouse_dir: Path) -> list[tuple[str, str]]:
    """Files of the current version that its run did not write as they are: (path in the version, "added",
    "changed" or "removed"). A file whose stat differs from the record is read and compared by content (a copied
    or restored warehouse has new inodes, not new files). Empty when nothing changed, or when no record of the
    version exists (a warehouse published before records were kept)."""
    version = current_version(warehouse_dir)
    record = _read_record(warehouse_dir)
    if version is None or record.get("version") != version.name:
        return []
    expected: dict[str, list] = record.get("files", {})
    found = _version_files(version)
    changes = [(name, "added") for name in sorted(found.keys() - expected.keys())]
    for name in sorted(found.keys() & expected.keys()):
        entry = expected[name]
        if _stat_of(found[name]) != entry[:3] and (len(entry) < 4 or file_digest(found[name]) != entry[3]):
            changes.append((name, "changed"))
    changes += [(name, "removed") for name in sorted(expected.keys() - found.keys())]
    return sorted(changes)
