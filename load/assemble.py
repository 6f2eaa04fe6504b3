"""A new version of the warehouse from the document store, in DuckDB with bounded memory, writing only what
changed.

Per-document tables are partitions of Parquet files, each a base and the additions of later runs:
facts, votes and plan steps by fiscal year (in fiscal_year=<BE>/ folders, the year in the folder name only),
entity_alias and the documents' dq findings as one partition each. A run carries every
untouched partition over as it is (hard links), writes the rows of new documents as an addition, and
rewrites a partition from its previous files and the store only where rows must leave it (a changed or
deleted file, a project whose chosen source changed, a rule of identity resolution that changed, a fiscal
year re-run) or where additions have piled up. What depends on the whole corpus (dim_project, the bridge,
the corpus's findings) is recomputed from the documents' rows, and this run's ingest_ledger rows from its
file list. The result is the same rows a full build gives.
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

from load.duck import RUN_MEMORY_LIMIT, connect, execute, identifier, literal, write_parquet
from load.models import Model, load_project
from load.store import Store
from load.tables import (
    DOCUMENT_YEAR,
    LOOKUP_SCHEMAS,
    PARTITION_COLUMN,
    SCHEMAS,
    STAGED_TABLES,
    WORK_SCHEMAS,
    file_schema,
)

ORDER_BY = {"fact_monthly_progress": "project_key, report_no", "fact_disbursement": "project_key, report_no",
            "fact_network_event": "project_key, report_no, network_no"}
ADDITIONS_BEFORE_REWRITE = 24  # a partition made of this many additions is rewritten as one base
PER_DOCUMENT_INPUTS = ("stg_doc_dq", "stg_doc_alias", "stg_person_mention", "stg_school_mention")
# what a mention is matched to its rule by (sql/marts/entity_alias.sql, sql/staging/school_mention_resolved.sql)
# each rule table: the mentions it resolves, and their columns that match the rule's (sql/marts/entity_alias.sql,
# sql/staging/school_mention_resolved.sql)
RULE_KEYS = {
    "person_rule": ("stg_person_mention", {"person_key": "signature_key", "name_th": "name_th"}),
    "school_rule": ("stg_school_mention", {k: k for k in ("raw_text", "name_th", "district_id", "network_no", "tail",
                                                          "same_line")}),
}


class AssemblyError(RuntimeError):
    """The staged rows do not account for every file: nothing is published."""


@dataclass(frozen=True)
class RunInfo:
    run_id: str
    recorded_at: datetime
    files_seen: int
    fiscal_year: int | None = None


@dataclass(frozen=True)
class Delta:
    """What changed since the version a run builds on."""

    removed: frozenset[str]  # files whose previous rows leave (deleted, or changed: their old content)
    added: frozenset[str]  # files whose rows are new (new, or changed: their new content)
    full: bool = False  # nothing to build on: every partition is written


@dataclass
class Sources:
    """Where a version's rows come from."""

    store: Store
    chunks: list[str]  # every live chunk, the run's new ones included
    new_chunks: list[str]
    run_files: pa.Table  # this run's file list: source_file, content_sha256, status, reason, layout
    delta: Delta
    previous: Path | None  # the current version when it was built from this store: what is carried over
    current: Path | None = None  # the current version whatever it was built from: the runs' own rows are kept


def assemble(version: Path, sources: Sources, lookups: dict[str, pa.Table], run: RunInfo,
             ) -> tuple[Counter[str], str]:
    """Write every staged and mart table of a new version, and the documents' table the store keeps (with
    whether each document won its project; written by DuckDB at the store's pending path, never held in
    Python). Returns this run's dq findings by check name and the name of the documents' table."""
    scratch = version / ".assembly"
    scratch.mkdir(parents=True, exist_ok=True)
    # temporary tables in memory (in a database file they cost twice the time), spilled to the scratch folder
    # beyond the memory limit
    con = connect(Path(":memory:"), memory_limit=RUN_MEMORY_LIMIT)
    try:
        execute(con, "spill folder", f"SET temp_directory = {literal(str(scratch / 'spill'))}")
        # the store's chunk files are read by many statements (a year each): their footers are parsed once
        execute(con, "footer cache", "SET parquet_metadata_cache = true")
        _inputs(con, sources, lookups, run)
        _check_accounting(con, run.files_seen)
        build = _Build(con, version, sources, run)
        build.document_views(None)  # the staging views bind to them; a per-document mart narrows them
        project = load_project()
        for model in project.staging:
            kind = "TEMP TABLE" if model.materialized == "table" else "TEMP VIEW"
            execute(con, f"staging {model.name}", f"CREATE {kind} {identifier(model.name)} AS {model.select()}")
        build.changes()
        for name in STAGED_TABLES:
            build.yearly(name)
        for model in project.marts:
            build.mart(model)
        for name in {m.table for m in project.marts if m.build != "published"}:
            check_schema(name, version / name)
        docs = f"docs-{run.run_id}.parquet"
        execute(con, "documents kept", "COPY (SELECT * EXCLUDE (source_rank, winner_file), source_rank = 1 AND "
                                       "fiscal_year IS NOT NULL AS winner FROM project_source) TO "
                                       f"{literal(str(sources.store.pending(docs)))} (FORMAT parquet, "
                                       "COMPRESSION zstd)")
        rows = execute(con, "dq findings", f"SELECT check_name, count(*) FROM read_parquet("
                                           f"{literal((version / 'dq_issue').as_posix() + '/*.parquet')}) "
                                           "GROUP BY 1").fetchall()
        return Counter(dict(rows)), docs
    finally:
        con.close()
        shutil.rmtree(scratch, ignore_errors=True)


def _inputs(con: duckdb.DuckDBPyConnection, sources: Sources, lookups: dict[str, pa.Table], run: RunInfo) -> None:
    """The documents (stg_doc: the kept ones from the store's table, the new ones from their chunks), the
    resolved identities, this run's files, run_info; the other staged tables are views made per need."""
    store, kept = sources.store, sorted(set(sources.chunks) - set(sources.new_chunks))
    new_docs = _files_sql(con, "stg_doc", store.table_files("stg_doc", sources.new_chunks), chunk_id=True)
    parts = [new_docs]
    if kept and store.docs_path() is not None:
        listed = ", ".join(literal(c) for c in kept)
        columns = ", ".join(f.name for f in WORK_SCHEMAS["stg_doc"])
        parts.append(f"SELECT {columns}, chunk_id FROM read_parquet({literal(str(store.docs_path()))}) "
                     f"WHERE chunk_id IN ({listed})")
    execute(con, "documents", "CREATE TEMP TABLE stg_doc AS " + " UNION ALL ".join(parts))
    for name, table in lookups.items():  # as tables of the database, whose sizes the planner knows
        con.register("lookup", table.cast(LOOKUP_SCHEMAS[name]))
        execute(con, f"lookup {name}", f"CREATE TEMP TABLE {identifier(name)} AS SELECT * FROM lookup")
        con.unregister("lookup")
    _run_inputs(con, sources.run_files, run)


def _run_inputs(con: duckdb.DuckDBPyConnection, run_files: pa.Table, run: RunInfo) -> None:
    """run_files (this run's file list) and run_info (its id and time)."""
    con.register("run_files_arrow", run_files)
    execute(con, "run files", "CREATE TEMP TABLE run_files AS SELECT * FROM run_files_arrow")
    con.unregister("run_files_arrow")
    recorded_at = SCHEMAS["ingest_ledger"].field("recorded_at").type
    con.register("run_info", pa.table({"run_id": [run.run_id], "recorded_at": [run.recorded_at]},
                                      schema=pa.schema([("run_id", pa.string()), ("recorded_at", recorded_at)])))


def _files_sql(con: duckdb.DuckDBPyConnection, name: str, files: list[Path], where: str = "",
               chunk_id: bool = False) -> str:
    """A SELECT of a staged table's Parquet files (of an empty table of its schema when there are none),
    their rows that meet `where`; with chunk_id, the chunk each row comes from
    (.../chunks/<chunk id>/<table>.parquet)."""
    schema = SCHEMAS.get(name) or WORK_SCHEMAS[name]
    columns = ", ".join(f.name for f in schema)
    if not files:
        empty = f"empty_{name}"
        con.register(empty, schema.empty_table())
        return f"SELECT {columns}" + (", NULL::VARCHAR AS chunk_id" if chunk_id else "") + f" FROM {empty}"
    listed = ", ".join(literal(str(f)) for f in files)
    condition = f" WHERE {where}" if where else ""
    if chunk_id:
        return (f"SELECT {columns}, regexp_extract(filename, '([^/]+)/[^/]+$', 1) AS chunk_id "
                f"FROM read_parquet([{listed}], hive_partitioning = false, filename = true){condition}")
    return f"SELECT {columns} FROM read_parquet([{listed}], hive_partitioning = false){condition}"


class _Build:
    """The partitions of one new version: carried over, added to, or rewritten."""

    def __init__(self, con: duckdb.DuckDBPyConnection, version: Path, sources: Sources, run: RunInfo):
        self.con, self.version, self.sources, self.run = con, version, sources, run
        self.full = sources.delta.full or sources.previous is None
        self.previous = sources.previous
        self.chunks_of: dict[str, list[str]] = {}  # _chunks_of's answers (its tables do not change once made)

    def changes(self) -> None:
        """Which files' rows leave and enter the per-document tables, and which fiscal years they touch."""
        delta, con = self.sources.delta, self.con
        for name, files in (("removed_files", delta.removed), ("added_files", delta.added)):
            con.register("names", pa.table({"source_file": pa.array(sorted(files), pa.string())}))
            execute(con, name, f"CREATE TEMP TABLE {name} AS SELECT * FROM names")
            con.unregister("names")
        before = self.sources.store.docs_path()
        previous_docs = (f"SELECT source_file, fiscal_year, winner FROM read_parquet({literal(str(before))})"
                         if before is not None and not self.full else
                         "SELECT NULL::VARCHAR AS source_file, NULL::INT AS fiscal_year, NULL::BOOLEAN AS winner "
                         "WHERE false")
        execute(con, "documents before", f"CREATE TEMP TABLE docs_before AS {previous_docs}")
        execute(con, "winners", "CREATE TEMP TABLE winners AS SELECT source_file, fiscal_year FROM project_source "
                                "WHERE source_rank = 1 AND fiscal_year IS NOT NULL")
        execute(con, "source changes", """
            CREATE TEMP TABLE source_changed AS
            SELECT source_file FROM winners WHERE source_file NOT IN (SELECT source_file FROM docs_before WHERE winner)
                AND source_file NOT IN (SELECT source_file FROM added_files)
            UNION SELECT source_file FROM docs_before WHERE winner
                AND source_file NOT IN (SELECT source_file FROM winners)
                AND source_file NOT IN (SELECT source_file FROM removed_files)""")
        # rows leave for removed files and sources that changed; rows enter for added files and sources
        # that changed (only winners have rows in the yearly tables)
        execute(con, "rows out", "CREATE TEMP TABLE rows_out AS SELECT source_file FROM removed_files "
                                 "UNION SELECT source_file FROM source_changed")
        execute(con, "rows in", "CREATE TEMP TABLE rows_in AS SELECT source_file FROM added_files "
                                "UNION SELECT source_file FROM source_changed")
        years = execute(con, "touched years", """
            SELECT DISTINCT fiscal_year FROM docs_before WHERE source_file IN (SELECT source_file FROM rows_out)
            UNION SELECT DISTINCT fiscal_year FROM winners WHERE source_file IN (SELECT source_file FROM rows_in)
            """).fetchall()
        self.touched = {y for (y,) in years if y is not None}
        self.rewrite_years = {y for (y,) in execute(con, "years with rows leaving", """
            SELECT DISTINCT fiscal_year FROM docs_before WHERE winner
                AND source_file IN (SELECT source_file FROM rows_out)""").fetchall() if y is not None}
        if self.run.fiscal_year is not None:
            self.touched.add(self.run.fiscal_year)
            self.rewrite_years.add(self.run.fiscal_year)
        self.rules_known = self._rule_changes()

    def _rule_changes(self) -> bool:
        """The documents whose alias rows change because a rule of identity resolution they use changed
        (rule_files), beside those whose own rows change (rows_in, rows_out): doc_in and doc_out. False when
        the previous rules are unknown (every document's rows are computed again)."""
        con, rules = self.con, self.sources.store.rules_dir()
        if self.full or rules is None or not all((rules / f"{n}.parquet").exists() for n in RULE_KEYS):
            return False
        affected = []
        for name, (mentions, keys) in RULE_KEYS.items():
            old = literal(str(rules / f"{name}.parquet"))
            execute(con, f"{name} changes", f"""
                CREATE OR REPLACE TEMP TABLE {name}_changed AS
                (SELECT * FROM read_parquet({old}) EXCEPT SELECT * FROM {name})
                UNION (SELECT * FROM {name} EXCEPT SELECT * FROM read_parquet({old}))""")
            if execute(con, f"{name} changed", f"SELECT count(*) FROM {name}_changed").fetchall()[0][0]:
                source = _files_sql(con, mentions, self.sources.store.table_files(mentions, self.sources.chunks))
                on = " AND ".join(f"m.{m} IS NOT DISTINCT FROM c.{r}" for m, r in keys.items())
                affected.append(f"SELECT m.source_file FROM ({source}) AS m JOIN {name}_changed AS c ON {on}")
        union = " UNION ".join(affected) or "SELECT NULL::VARCHAR AS source_file WHERE false"
        execute(con, "documents of changed rules", f"CREATE TEMP TABLE rule_files AS {union}")
        # a new file had no rows to leave: with no other change, its partition gets an addition
        execute(con, "documents out", "CREATE TEMP TABLE doc_out AS SELECT source_file FROM rows_out "
                                      "UNION (SELECT source_file FROM rule_files EXCEPT (SELECT source_file "
                                      "FROM added_files EXCEPT SELECT source_file FROM removed_files))")
        execute(con, "documents in", "CREATE TEMP TABLE doc_in AS SELECT source_file FROM rows_in "
                                     "UNION SELECT source_file FROM rule_files")
        return True

    # -- the yearly tables: facts, votes, plan steps ---------------------------------------------------

    def yearly(self, name: str) -> None:
        years = self._all_years() if self.full else self._previous_years(name) | self.touched
        for year in sorted(years):
            previous = [] if self.full else _year_files(self.previous, name, year)
            if not self.full and year not in self.touched:
                self._carry(previous, name)
            elif self.full or year in self.rewrite_years or len(previous) >= ADDITIONS_BEFORE_REWRITE:
                self._rewrite_year(name, year, previous)
            else:
                self._carry(previous, name)
                self._write(self._rows_of(name, year, "rows_in"), _year_target(self.version, name, year, "add",
                                                                              self.run.run_id), name, year)
        if not any((self.version / name).rglob("*.parquet")):  # an empty table still has its schema, the year
            _write_empty(self.version / name / "part-0.parquet", SCHEMAS[name])  # a column (there is no folder)

    def _all_years(self) -> set[int]:
        return {y for (y,) in execute(self.con, "years", "SELECT DISTINCT fiscal_year FROM winners").fetchall()}

    def _previous_years(self, name: str) -> set[int]:
        if self.previous is None:
            return set()
        root = self.previous / name
        return {int(p.name.split("=")[1]) for p in root.glob(f"{PARTITION_COLUMN}=*")}

    def _rows_of(self, name: str, year: int, which: str) -> str:
        """The rows of a yearly table for the winners of one year among `which` files, from the store."""
        store = self.sources.store
        chunks = self.sources.chunks if which == "winners" else self._chunks_of(which)
        source = _files_sql(self.con, name, store.table_files(name, chunks), f"{DOCUMENT_YEAR.name} = {year}")
        columns = ", ".join(f"s.{f.name}" for f in file_schema(name))  # the files' columns: the year is the folder
        return (f"SELECT {columns} FROM ({source}) AS s JOIN winners AS w USING (source_file) "
                f"WHERE w.fiscal_year = {year}"
                + ("" if which == "winners" else f" AND s.source_file IN (SELECT source_file FROM {which})"))

    def _chunks_of(self, which: str) -> list[str]:
        """The chunks holding `which` files (asked for each yearly table and year: answered once per build)."""
        if which not in self.chunks_of:
            rows = execute(self.con, f"chunks of {which}", f"SELECT DISTINCT chunk_id FROM stg_doc WHERE source_file "
                                                           f"IN (SELECT source_file FROM {which})").fetchall()
            self.chunks_of[which] = sorted(c for (c,) in rows)
        return self.chunks_of[which]

    def _rewrite_year(self, name: str, year: int, previous: list[Path]) -> None:
        if self.full or not previous:
            select = self._rows_of(name, year, "winners")
        else:
            listed = ", ".join(literal(str(p)) for p in previous)
            kept = (f"SELECT * FROM read_parquet([{listed}], hive_partitioning = false) "
                    "WHERE source_file NOT IN (SELECT source_file FROM rows_out)")
            select = f"{kept} UNION ALL {self._rows_of(name, year, 'rows_in')}"
        if name in ORDER_BY:
            select = f"SELECT * FROM ({select}) ORDER BY {ORDER_BY[name]}"
        self._write(select, _year_target(self.version, name, year, "base", self.run.run_id), name, year)

    def _write(self, select: str, target: Path, name: str, part: int | str) -> None:
        """The rows as target. No rows leave no file for an addition (a partition may be all carried over) or
        a fiscal year (a year without facts has no partition, as in a full build)."""
        target.parent.mkdir(parents=True, exist_ok=True)
        table = self._table_of(target)
        written = write_parquet(self.con, f"write {name} {part}", select, target, file_schema(table))
        if written == 0 and ("-add-" in target.name or isinstance(part, int)):
            target.unlink()
            if target.parent != self.version / table and not any(target.parent.iterdir()):
                target.parent.rmdir()

    def _table_of(self, target: Path) -> str:
        """The published table a file of this version belongs to (its folder under the version)."""
        return target.relative_to(self.version).parts[0]

    def _carry(self, previous: list[Path], name: str) -> None:
        for path in previous:
            target = self.version / name / path.relative_to(self.previous / name)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.link(path, target)

    # -- the marts ---------------------------------------------------------------------------------------

    def mart(self, model: Model) -> None:
        if model.build == "published":
            return  # load.publish builds it from this version's tables, once they are all written
        if model.build == "whole":
            self._write(model.select(), self.version / model.table / f"{model.name}.parquet", model.name, "all")
        elif model.build == "run":
            self._write(model.select(), _run_target(self.version, model, self.run), model.name, "run")
            current = self.sources.current
            for path in sorted((current / model.table).glob("run-*.parquet")) if current else []:
                os.link(path, self.version / model.table / path.name)
        else:
            self._per_document(model)

    def _per_document(self, model: Model) -> None:
        """Rows of the documents whose rows change (their own, or a rule they use: doc_in, from their chunks'
        rows joined to the identities); the others' rows carried over. Every row again when the previous
        rules are unknown, or when additions have piled up."""
        previous = sorted((self.previous / model.table).glob(f"{model.name}-*.parquet")) if self.previous else []
        target = self.version / model.table
        if self.full or not self.rules_known or not previous:
            self.document_views(None)
            self._write(model.select(), target / f"{model.name}-base-{self.run.run_id}.parquet", model.name, "all")
            return
        self.document_views("doc_in")
        fresh = model.select()
        leaving = execute(self.con, "rows leaving", "SELECT count(*) FROM doc_out").fetchall()[0][0]
        if leaving or len(previous) >= ADDITIONS_BEFORE_REWRITE:
            listed = ", ".join(literal(str(p)) for p in previous)
            kept = (f"SELECT * FROM read_parquet([{listed}]) WHERE source_file NOT IN "
                    "(SELECT source_file FROM doc_out)")
            self._write(f"{kept} UNION ALL SELECT * FROM (\n{fresh}\n)",
                        target / f"{model.name}-base-{self.run.run_id}.parquet", model.name, "all")
        else:
            self._carry(previous, model.table)
            self._write(fresh, target / f"{model.name}-add-{self.run.run_id}.parquet", model.name, "added")

    def document_views(self, which: str | None) -> None:
        """The per-document staged tables, of every document or only of `which` files."""
        chunks = self.sources.chunks if which is None else self._chunks_of(which)
        for name in PER_DOCUMENT_INPUTS:
            source = _files_sql(self.con, name, self.sources.store.table_files(name, chunks))
            where = "" if which is None else f" WHERE source_file IN (SELECT source_file FROM {which})"
            execute(self.con, f"view {name}", f"CREATE OR REPLACE TEMP VIEW {identifier(name)} AS "
                                              f"SELECT * FROM ({source}){where}")


def write_run_marts(version: Path, run: RunInfo, run_files: pa.Table) -> None:
    """This run's rows of the marts built per run (ingest_ledger), from its file list alone."""
    con = connect(Path(":memory:"))
    try:
        _run_inputs(con, run_files, run)
        for model in load_project().marts:
            if model.build == "run":
                target = _run_target(version, model, run)
                target.parent.mkdir(parents=True, exist_ok=True)
                write_parquet(con, f"write {model.name}", model.select(), target, SCHEMAS[model.table])
    finally:
        con.close()


def _run_target(version: Path, model: Model, run: RunInfo) -> Path:
    return version / model.table / f"run-{run.run_id}.parquet"


def _year_files(root: Path | None, name: str, year: int) -> list[Path]:
    if root is None:
        return []
    return sorted((root / name / f"{PARTITION_COLUMN}={year}").glob("*.parquet"))


def _year_target(version: Path, name: str, year: int, kind: str, run_id: str) -> Path:
    return version / name / f"{PARTITION_COLUMN}={year}" / f"{kind}-{run_id}.parquet"


def _check_accounting(con: duckdb.DuckDBPyConnection, files_seen: int) -> None:
    """Every file discovered has exactly one ledger row, with a known status."""
    rows, names, known = execute(con, "accounting", "SELECT count(*), count(DISTINCT source_file), "
                                 "count(*) FILTER (status IN ('loaded', 'quarantined', 'unchanged')) "
                                 "FROM run_files").fetchall()[0]
    if not rows == names == known == files_seen:
        raise AssemblyError(f"accounting error: {files_seen} files seen, {rows} ledger rows for {names} names, "
                            f"{known} with a known status")


def _write_empty(path: Path, schema: pa.Schema) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(schema.empty_table(), path, compression="zstd")


def check_schema(name: str, folder: Path) -> None:
    """A mart must have exactly the contract's columns and types."""
    want = [(f.name, f.type) for f in SCHEMAS[name]]
    for path in folder.glob("*.parquet"):
        got = pq.read_schema(path)
        if [(f.name, f.type) for f in got] != want:
            raise AssemblyError(f"{name} was built with columns {got} instead of {SCHEMAS[name]}")
