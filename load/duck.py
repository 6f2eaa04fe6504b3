"""The one door to DuckDB: every statement is named, and an error carries that name and the SQL."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from common.settings import SQL_DIR

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class WarehouseSQLError(RuntimeError):
    def __init__(self, name: str, sql: str, cause: Exception):
        self.name, self.sql = name, sql
        super().__init__(f"SQL statement {name!r} failed: {cause}\n--- SQL ---\n{sql}")


def identifier(name: str) -> str:
    """A validated SQL identifier (table or column names are never taken from input unchecked)."""
    if not _IDENTIFIER.match(name):
        raise ValueError(f"not a safe SQL identifier: {name!r}")
    return name


def literal(text: str) -> str:
    """A SQL string literal (for DDL, where parameters cannot be bound, such as file paths in views)."""
    return "'" + text.replace("'", "''") + "'"


def sql_file(relative: str) -> str:
    return (SQL_DIR / relative).read_text(encoding="utf-8")


def execute(con: duckdb.DuckDBPyConnection, name: str, sql: str, params: list | None = None):
    try:
        return con.execute(sql, params or [])
    except duckdb.Error as exc:
        raise WarehouseSQLError(name, sql, exc) from exc


def write_parquet(con: duckdb.DuckDBPyConnection, name: str, sql: str, target: Path, schema: pa.Schema) -> int:
    """The query's rows as one Parquet file of exactly `schema` (every column nullable, the declared types):
    DuckDB's own COPY marks a column NOT NULL wherever it can prove it, so files of one table written by
    different queries (a full build, an incremental run) would disagree, and pyarrow and pandas refuse to read
    such a folder whole. Streamed in record batches; returns the rows written."""
    try:
        relation = con.sql(sql)
        # a relation streams its batches (DuckDB 2.0 names it to_arrow_reader; 1.x fetch_arrow_reader)
        reader = relation.to_arrow_reader(1 << 17) if hasattr(relation, "to_arrow_reader") else \
            relation.fetch_arrow_reader(1 << 17)
    except duckdb.Error as exc:
        raise WarehouseSQLError(name, sql, exc) from exc
    rows = 0
    with pq.ParquetWriter(target, schema, compression="zstd") as writer:
        for batch in reader:
            if batch.num_rows:
                writer.write_batch(batch.select(schema.names).cast(schema))
                rows += batch.num_rows
    return rows


# what a run lets one DuckDB connection hold (its buffers; beyond, it spills or fails): a run's own memory
# stays bounded whatever the corpus size (measured peak RSS at 100,000 documents: make bench)
RUN_MEMORY_LIMIT = "128MB"


def connect(path: Path, read_only: bool = False, memory_limit: str | None = None) -> duckdb.DuckDBPyConnection:
    config = {"memory_limit": memory_limit} if memory_limit else {}
    return duckdb.connect(str(path), read_only=read_only, config=config)
