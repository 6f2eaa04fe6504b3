"""Atomic publish: every run builds a complete version of the warehouse aside (load/assemble.py), checks it,
and makes it current by replacing one symlink, then rewrites warehouse.duckdb (the layout and the views are
load/layout.py's). A run killed at any moment leaves the previous version current and valid."""

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
from common.records import Finding
from common.text import printable
from load.assemble import RunInfo, Sources, assemble, check_schema, write_run_marts
from load.duck import RUN_MEMORY_LIMIT, connect, execute, identifier, literal, write_parquet
from load.layout import (
    READ_ONLY,
    STATE_DIR,
    VERSIONS,
    create_views,
    current_version,
    ensure_table_links,
    keep_changed_duckdb,
    prune_versions,
    published_changes,
    record_published,
    switch_current,
    write_duckdb,
)
from load.models import load_project
from load.report import REPORT_DIR, ReportWriter
from load.tables import SCHEMAS, STAGED_TABLES

CHANGED_PREFIX = "changed-"  # dq_issue/changed-<run>.parquet: this run's finding of a changed warehouse.duckdb
PULL_LEDGER = "pull_ledger"  # one file per pull in <warehouse>/_state/pull_ledger (load/state.py writes them)
CHECKS_FILE = "checks.parquet"  # dq_issue rows of the failed SQL checks


@dataclass(frozen=True)
class CheckFailure:
    check_name: str
    project_key: str | None
    source_file: str | None
    detail: str
    severity: str


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
    changed = _changed_duckdb(warehouse_dir, version, run) + _changed_published(warehouse_dir)
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
        _write_failures(failures, version / "dq_issue" / CHECKS_FILE)
    if changed:  # findings of this run alone: the next run does not carry them
        _write_failures(changed, version / "dq_issue" / f"{CHANGED_PREFIX}{run.run_id}.parquet")
    failures += changed
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
    changed = _changed_duckdb(warehouse_dir, version, run)
    for path in sorted(current.rglob("*.parquet")):
        relative = path.relative_to(current)
        if relative.parts[0] not in (REPORT_DIR, PULL_LEDGER) and not path.name.startswith(CHANGED_PREFIX):
            (version / relative).parent.mkdir(parents=True, exist_ok=True)
            os.link(path, version / relative)
    write_run_marts(version, run, run_files)
    _link_pull_ledger(warehouse_dir, version)
    names = sorted(p.name for p in version.iterdir() if p.is_dir())
    checks = version / "dq_issue" / CHECKS_FILE
    failures = [CheckFailure(r["check_name"], r["project_key"], r["source_file"], r["detail"], r["severity"])
                for r in (pq.read_table(checks).to_pylist() if checks.exists() else [])] + changed
    if changed:
        _write_failures(changed, version / "dq_issue" / f"{CHANGED_PREFIX}{run.run_id}.parquet")
    con = connect(Path(":memory:"))
    try:
        dq = literal((version / "dq_issue").as_posix() + "/*.parquet")
        findings = Counter(dict(execute(con, "dq findings", f"SELECT check_name, count(*) FROM read_parquet({dq}) "
                                                            "GROUP BY 1").fetchall()))
    finally:
        con.close()
    _make_current(warehouse_dir, version, names, _report(version, names, run).start())
    return failures, findings


def _write_failures(failures: list[CheckFailure], path: Path) -> None:
    dq = [{"source_file": f.source_file, "project_key": f.project_key, "check_name": f.check_name,
           "severity": f.severity, "detail": f.detail} for f in failures]
    _write_parquet(pa.Table.from_pylist(dq, schema=SCHEMAS["dq_issue"]), path)


def _changed_duckdb(warehouse_dir: Path, version: Path, run: RunInfo) -> list[CheckFailure]:
    """warehouse.duckdb as someone changed it since the last run (an analyst's table in a read-write session) is
    kept aside, with a finding that says where; it is never replaced silently."""
    kept = keep_changed_duckdb(warehouse_dir, warehouse_dir / STATE_DIR, run.run_id)
    if kept is None:
        return []
    finding = Finding.of("warehouse_file_changed", f"warehouse.duckdb was changed since the last run wrote it "
                         f"(tables or views created in it?): kept as {kept.name}, a new one written; analysts keep "
                         "their own tables in a database of their own that ATTACHes the warehouse "
                         "(docs/analyst_guide.md)")
    return [CheckFailure(finding.check_name, None, None, finding.detail, finding.severity)]


def _changed_published(warehouse_dir: Path) -> list[CheckFailure]:
    """Files of the current version that its run did not write (a COPY into it, a file dropped in by hand): one
    finding each. The new version does not carry them: the run builds it whole (flows/stages.py)."""
    failures = []
    for name, how in published_changes(warehouse_dir):
        finding = Finding.of("published_file_changed", f"{printable(name)} {how} in the published version "
                             "since its run: not carried on")
        failures.append(CheckFailure(finding.check_name, None, None, finding.detail, finding.severity))
    return failures


def _make_current(warehouse_dir: Path, version: Path, names: Sequence[str], report: ReportWriter) -> None:
    """The report finished, then the version flushed to disk and made current; the DuckDB file follows it."""
    report.finish()
    _sync_tree(version)
    ensure_table_links(warehouse_dir, [*names, REPORT_DIR])
    record_published(warehouse_dir, version)
    switch_current(warehouse_dir, version)
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
        create_views(con, version, [n for n in names if n not in {m.table for m in marts}])
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
        create_views(con, version, names)
        return con

    return ReportWriter(views, version, run.run_id, run.recorded_at)


def _write_parquet(table: pa.Table, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, compression="zstd")


def _sync_tree(root: Path) -> None:
    """Flush the new version to disk before it becomes current (a crash must not publish empty files), its
    files read-only (a carried-over file is the same file: a hard link)."""
    for path in (*root.rglob("*.parquet"), *root.glob(f"{REPORT_DIR}/*.html")):
        with path.open("rb") as fh:
            os.fsync(fh.fileno())
        os.chmod(path, READ_ONLY)


def run_checks(version: Path, names: Sequence[str]) -> list[CheckFailure]:
    """Every test of sql/models.toml on the new version returns its offending rows; zero rows is a pass."""
    con = connect(Path(":memory:"), memory_limit=RUN_MEMORY_LIMIT)
    try:
        execute(con, "footer cache", "SET parquet_metadata_cache = true")  # most tables have several tests
        create_views(con, version, names)
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


