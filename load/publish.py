"""Atomic publish: every run builds a complete version of the warehouse aside, checks it, and makes it
current by replacing one symlink, then writes a new DuckDB file whose views name that version. A
connection reads one whole version; a run killed at any moment leaves the previous version current and valid.

    warehouse/
      current -> versions/<run_id>           (replaced atomically)
      versions/<run_id>/<table>/...          (complete snapshots; the previous one is kept for readers)
      <table> -> current/<table>             (the contract's paths)
      report -> current/report               (report/index.html: the run's report for people)
      warehouse.duckdb                       (views over the current version, with comments)
"""

from __future__ import annotations

import os
import shutil
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from common.memory import release_freed_memory
from common.settings import SQL_DIR
from load.assemble import RunInfo, Sources, assemble, check_schema, write_run_marts
from load.duck import RUN_MEMORY_LIMIT, connect, execute, identifier, literal, sql_file, write_parquet
from load.models import load_project
from load.report import REPORT_DIR, ReportWriter
from load.tables import SCHEMAS, STAGED_TABLES

DUCKDB_FILE = "warehouse.duckdb"
# the storage format of warehouse.duckdb: DuckDB 2.0's own is unreadable by 1.x ("version number 999");
# v1.0.0 (format 64) is read by every DuckDB from 1.0 on (tested with 1.1.3 and 1.4.x)
STORAGE_VERSION = "v1.0.0"
PULL_LEDGER = "pull_ledger"  # one file per pull in <warehouse>/_state/pull_ledger (load/state.py writes them)
VERSIONS = "versions"
CHECKS_FILE = "checks.parquet"  # dq_issue rows of the failed SQL checks
CURRENT = "current"


@dataclass(frozen=True)
class CheckFailure:
    check_name: str
    project_key: str | None
    source_file: str | None
    detail: str
    severity: str


def current_version(warehouse_dir: Path) -> Path | None:
    link = warehouse_dir / CURRENT
    return link.resolve() if link.is_symlink() and link.exists() else None


def published_row_counts(warehouse_dir: Path) -> dict[str, int]:
    """Rows per table of the current version, from the Parquet footers."""
    version = current_version(warehouse_dir)
    if version is None:
        return {}
    return {table.name: sum(pq.ParquetFile(p).metadata.num_rows for p in table.rglob("*.parquet"))
            for table in sorted(version.iterdir()) if table.is_dir() and not table.name.startswith(".")}


def projects_in_year(warehouse_dir: Path, fiscal_year: int) -> int:
    """dim_project rows of one fiscal year in the current version."""
    version = current_version(warehouse_dir)
    if version is None:
        return 0
    years = pq.read_table(version / "dim_project", columns=["fiscal_year"]).column("fiscal_year")
    return pc.sum(pc.equal(years, fiscal_year)).as_py() or 0


def publish(warehouse_dir: Path, tables: dict[str, pa.Table], run: RunInfo, sources: Sources,
            lookups: dict[str, pa.Table]) -> tuple[list[CheckFailure], Counter[str], str]:
    """Build a new version, run the SQL checks on it, make it current, refresh the DuckDB file.

    `tables` are written as they are; the document store and the identity lookups become the facts and
    the marts (load/assemble.py), carrying over what did not change from the current version.
    Returns the check failures (also in the new version's dq_issue), the dq findings by check name, and
    the name of the documents' table written in the store (load/store.py keeps it at commit).
    """
    version = warehouse_dir / VERSIONS / run.run_id
    shutil.rmtree(version, ignore_errors=True)
    for name, table in tables.items():
        _write_parquet(table, version / identifier(name) / "part-0.parquet")
    findings, docs = assemble(version, sources, lookups, run)
    _link_pull_ledger(warehouse_dir, version)
    names = sorted({*tables, *STAGED_TABLES, *(m.table for m in load_project().marts), PULL_LEDGER})
    build_published_marts(version, names)
    release_freed_memory()  # what the assembly held
    report = _report(version, names, run).start()  # its data sections while the checks run
    failures = run_checks(version, names)
    if failures:
        dq = [{"source_file": f.source_file, "project_key": f.project_key, "check_name": f.check_name,
               "severity": f.severity, "detail": f.detail} for f in failures]
        _write_parquet(pa.Table.from_pylist(dq, schema=SCHEMAS["dq_issue"]), version / "dq_issue" / CHECKS_FILE)
        findings.update(f.check_name for f in failures)
    _make_current(warehouse_dir, version, names, report)
    return failures, findings, docs


def republish(warehouse_dir: Path, run: RunInfo, run_files: pa.Table) -> tuple[list[CheckFailure], Counter[str]]:
    """A new version when nothing it is built from changed: the current version's files (hard links), this
    run's ingest_ledger rows, the pull ledger and a new report. The checks passed or failed on the same rows:
    their failures are carried with dq_issue. Returns them and the dq findings by check name."""
    current = current_version(warehouse_dir)
    if current is None:
        raise FileNotFoundError(f"{warehouse_dir} has no current version to carry over")
    version = warehouse_dir / VERSIONS / run.run_id
    shutil.rmtree(version, ignore_errors=True)
    for path in sorted(current.rglob("*.parquet")):
        relative = path.relative_to(current)
        if relative.parts[0] not in (REPORT_DIR, PULL_LEDGER):
            (version / relative).parent.mkdir(parents=True, exist_ok=True)
            os.link(path, version / relative)
    write_run_marts(version, run, run_files)
    _link_pull_ledger(warehouse_dir, version)
    names = sorted(p.name for p in version.iterdir() if p.is_dir())
    checks = version / "dq_issue" / CHECKS_FILE
    failures = [CheckFailure(r["check_name"], r["project_key"], r["source_file"], r["detail"], r["severity"])
                for r in (pq.read_table(checks).to_pylist() if checks.exists() else [])]
    con = connect(Path(":memory:"))
    try:
        dq = literal((version / "dq_issue").as_posix() + "/*.parquet")
        findings = Counter(dict(execute(con, "dq findings", f"SELECT check_name, count(*) FROM read_parquet({dq}) "
                                                            "GROUP BY 1").fetchall()))
    finally:
        con.close()
    _make_current(warehouse_dir, version, names, _report(version, names, run).start())
    return failures, findings


def _make_current(warehouse_dir: Path, version: Path, names: Sequence[str], report: ReportWriter) -> None:
    """The report finished, then the version flushed to disk and made current; the DuckDB file follows it."""
    report.finish()
    _sync_tree(version)
    _ensure_table_links(warehouse_dir, [*names, REPORT_DIR])
    _switch_current(warehouse_dir, version)
    write_duckdb(warehouse_dir, names, version.name)
    prune_versions(warehouse_dir)


def _link_pull_ledger(warehouse_dir: Path, version: Path) -> None:
    """Every pull's ledger file, as it is (hard links); an empty table before the first pull."""
    folder = version / PULL_LEDGER
    folder.mkdir(parents=True, exist_ok=True)
    files = sorted((warehouse_dir / "_state" / PULL_LEDGER).glob("run-*.parquet"))
    for path in files:
        os.link(path, folder / path.name)
    if not files:
        _write_parquet(SCHEMAS[PULL_LEDGER].empty_table(), folder / "none.parquet")


def build_published_marts(version: Path, names: Sequence[str]) -> None:
    """The marts computed from the version's own published tables (sql/models.toml: build = "published")."""
    marts = [m for m in load_project().marts if m.build == "published"]
    con = connect(Path(":memory:"), memory_limit=RUN_MEMORY_LIMIT)
    try:
        _views(con, version, [n for n in names if n not in {m.table for m in marts}])
        for model in marts:
            target = version / model.table / f"{model.name}.parquet"
            target.parent.mkdir(parents=True, exist_ok=True)
            write_parquet(con, f"write {model.name}", model.select(), target, SCHEMAS[model.table])
            check_schema(model.table, target.parent)
    finally:
        con.close()


def _report(version: Path, names: Sequence[str], run: RunInfo) -> ReportWriter:
    """The writer of the version's report/index.html (load/report.py), reading its tables, checks included."""
    def views() -> duckdb.DuckDBPyConnection:
        con = connect(Path(":memory:"), memory_limit=RUN_MEMORY_LIMIT)
        _views(con, version, names)
        return con

    return ReportWriter(views, version, run.run_id, run.recorded_at)


def _write_parquet(table: pa.Table, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, compression="zstd")


def _sync_tree(root: Path) -> None:
    """Flush the new version to disk before it becomes current (a crash must not publish empty files)."""
    for path in (*root.rglob("*.parquet"), *root.glob(f"{REPORT_DIR}/*.html")):
        with path.open("rb") as fh:
            os.fsync(fh.fileno())


def _ensure_table_links(warehouse_dir: Path, names: Sequence[str]) -> None:
    """<table> -> current/<table> (and report -> current/report), the paths of the contract (a folder of an
    older layout goes)."""
    for name in names:
        link = warehouse_dir / name
        if link.is_symlink():
            continue
        if link.exists():
            shutil.rmtree(link)
        link.symlink_to(Path(CURRENT) / name, target_is_directory=True)


def _switch_current(warehouse_dir: Path, version: Path) -> None:
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


def _views(con: duckdb.DuckDBPyConnection, root: Path, names: Sequence[str]) -> None:
    template = sql_file("views/table_view.sql")
    for name in names:
        glob = literal((root / name).as_posix() + "/**/*.parquet")
        execute(con, f"view {name}", template.format(table=identifier(name), glob=glob))


def run_checks(version: Path, names: Sequence[str]) -> list[CheckFailure]:
    """Every test of sql/models.toml on the new version returns its offending rows; zero rows is a pass."""
    con = connect(Path(":memory:"), memory_limit=RUN_MEMORY_LIMIT)
    try:
        execute(con, "footer cache", "SET parquet_metadata_cache = true")  # most tables have several tests
        _views(con, version, names)
        failures: list[CheckFailure] = []
        for test in load_project().tests:
            rows = execute(con, f"test {test.check_name} {test.table}".strip(),
                           f"SELECT project_key, source_file, detail FROM ({test.sql})").fetchall()
            severity = test.severity
            failures.extend(CheckFailure(test.check_name, key, source, detail, severity)
                            for key, source, detail in rows)
        return failures
    finally:
        con.close()


def write_duckdb(warehouse_dir: Path, names: Sequence[str], run_id: str) -> None:
    """A new DuckDB file of commented views over the current version, renamed over the old one in one step.

    The views name the version itself, not the `current` link: a connection reads one snapshot, whole,
    even in a statement that joins tables while a run publishes; an open connection keeps its file and
    version (kept on disk for it) and never meets a lock; a new connection sees the newest version.
    Their paths are relative to the warehouse folder (a client sets file_search_path to it, or starts in
    it: load.duck.open_warehouse does), so a copied or moved folder still opens; the file is written in
    DuckDB's storage format STORAGE_VERSION, which every DuckDB from 1.0 on reads."""
    version = current_version(warehouse_dir)
    if version is None:
        raise FileNotFoundError(f"{warehouse_dir} has no current version to describe")
    tmp = warehouse_dir / f".{DUCKDB_FILE}.{run_id}.tmp"
    tmp.unlink(missing_ok=True)
    con = connect(Path(":memory:"))
    try:
        execute(con, "attach", f"ATTACH {literal(str(tmp))} AS warehouse (STORAGE_VERSION {literal(STORAGE_VERSION)})")
        execute(con, "use", "USE warehouse")
        execute(con, "search path", f"SET file_search_path = {literal(str(warehouse_dir.resolve()))}")
        _views(con, version.relative_to(warehouse_dir.resolve()), names)
        for statement in comment_statements():
            execute(con, "comment", statement)
        execute(con, "checkpoint", "CHECKPOINT warehouse")
        execute(con, "use memory", "USE memory")
        execute(con, "detach", "DETACH warehouse")
    finally:
        con.close()
    os.replace(tmp, warehouse_dir / DUCKDB_FILE)


def comment_statements() -> list[str]:
    path = SQL_DIR / "views" / "comments.sql"
    if not path.exists():
        return []
    text = "\n".join(ln for ln in path.read_text(encoding="utf-8").splitlines() if not ln.lstrip().startswith("--"))
    return [s.strip() for s in text.split(";\n") if s.strip()]
