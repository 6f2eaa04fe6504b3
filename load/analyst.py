"""For analysts: `schoolnet query` (table, CSV or JSON) and the data dictionary generated from the
COMMENT ON statements of the warehouse."""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb

from common.findings import CHECKS
from common.text import printable
from load.door import NoWarehouseError, ReadOnlyError, open_warehouse, reading_statements
from load.layout import comment_statements
from load.tables import SCHEMAS

FORMATS = ("table", "csv", "json")


class QueryError(RuntimeError):
    """The query could not run (no warehouse yet, or DuckDB refused it)."""


@dataclass(frozen=True)
class Result:
    """What one statement answered."""

    sql: str
    columns: list[str]
    rows: list[tuple]


def run_queries(warehouse_dir: Path, sql: str) -> list[Result]:
    """Every statement of `sql`, read-only (load/door.py: reads only, nothing outside the warehouse), in order:
    the result of each. Raises QueryError (no warehouse, a statement that is not a read, or DuckDB's refusal)."""
    try:
        statements = reading_statements(sql)
        con = open_warehouse(warehouse_dir)
    except (ReadOnlyError, NoWarehouseError) as exc:
        raise QueryError(str(exc)) from None
    try:
        results = []
        for statement in statements:
            cursor = con.execute(statement)
            columns = [d[0] for d in cursor.description] if cursor.description else []
            results.append(Result(statement.strip().rstrip(";"), columns, cursor.fetchall() if columns else []))
        return results
    except duckdb.Error as exc:
        raise QueryError(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from exc
    finally:
        con.close()


def run_query(warehouse_dir: Path, sql: str) -> tuple[list[str], list[tuple]]:
    """The last statement's answer: (column names, rows)."""
    results = run_queries(warehouse_dir, sql)
    return (results[-1].columns, results[-1].rows) if results else ([], [])


# a spreadsheet runs a cell that starts with one of these as a formula ('=HYPERLINK(...)', "=cmd|' /C calc'!A0")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_DECIMAL = re.compile(r'"\\u0000(-?\d+(?:\.\d+)?)\\u0000"')


def _text(value: object) -> str:
    """A value as text: lists as JSON, dates ISO, decimals exact."""
    if isinstance(value, list | tuple | dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)


def _json_value(value: object) -> object:
    if isinstance(value, Decimal):
        return f"\x00{value}\x00"  # a marker, written back as a bare number below (exact: never a float)
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)


def _csv_cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, bool | int | float | Decimal):
        return value
    text = printable(_text(value), keep_newlines=True)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def render(columns: list[str], rows: list[tuple], fmt: str, bom: bool = False) -> str:
    """A result as a table for a terminal (control characters escaped), CSV (lists as JSON, cells a
    spreadsheet would run as a formula prefixed with an apostrophe, a BOM for Excel when asked) or JSON
    (decimals as exact numbers)."""
    if fmt == "json":
        text = json.dumps([{c: (None if v is None else v if isinstance(v, bool | int | float | list | dict)
                                else _json_value(v)) for c, v in zip(columns, row, strict=True)} for row in rows],
                          ensure_ascii=False, indent=2, default=_json_value)
        return _DECIMAL.sub(r"\1", text)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([_csv_cell(c) for c in columns])
        writer.writerows([[_csv_cell(v) for v in row] for row in rows])
        return ("\ufeff" if bom else "") + out.getvalue()
    names = [printable(c) for c in columns]
    cells = [[("NULL" if v is None else printable(_text(v))) for v in row] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(names)]
    line = "  ".join(c.ljust(w) for c, w in zip(names, widths, strict=True))
    rule = "  ".join("-" * w for w in widths)
    body = ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join([line, rule, *body, f"({len(rows)} row{'s' if len(rows) != 1 else ''})"])


def data_dictionary() -> str:
    """Markdown of every table and column with its comment, read back from DuckDB's catalogue."""
    con = duckdb.connect()
    try:
        for name, schema in SCHEMAS.items():
            con.register(f"empty_{name}", schema.empty_table())
            con.execute(f"CREATE VIEW {name} AS SELECT * FROM empty_{name}")
        for statement in comment_statements():
            con.execute(statement)
        views = con.execute("SELECT view_name, comment FROM duckdb_views() WHERE NOT internal "
                            "AND view_name NOT LIKE 'empty_%' ORDER BY view_name").fetchall()
        lines = ["# Data dictionary", "",
                 "Generated by `schoolnet docs` from the `COMMENT ON` statements of `sql/views/comments.sql`,",
                 "which are also in `warehouse.duckdb` (`SELECT * FROM duckdb_columns()`).", ""]
        for view, comment in views:
            lines += [f"## {view}", "", comment or "", "",
                      "| column | type | meaning [source label] |", "|---|---|---|"]
            for column, dtype, col_comment in con.execute(
                    "SELECT column_name, data_type, comment FROM duckdb_columns() WHERE table_name = ? "
                    "ORDER BY column_index", [view]).fetchall():
                lines.append(f"| {column} | {dtype} | {(col_comment or '').replace('|', '/')} |")
            lines.append("")
        return "\n".join(lines + check_names())
    finally:
        con.close()


def check_names() -> list[str]:
    """The section of the data dictionary that lists every dq_issue.check_name (common/findings.py)."""
    lines = ["## dq_issue.check_name", "",
             "Every finding the warehouse can hold (the list is `common/findings.py`; the tests of the published "
             "tables are declared in `sql/models.toml`).", "",
             "| check_name | severity | meaning |", "|---|---|---|"]
    lines += [f"| {c.name} | {c.severity} | {c.meaning.replace('|', '/')} |" for c in CHECKS]
    return lines + [""]
