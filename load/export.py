"""`schoolnet export`: the warehouse in the forms people take it elsewhere.

--xlsx FILE     one sheet per question of sql/analyst/ (an index sheet first): one header row of column names
                that pandas.read_excel reads with its defaults (each Thai label in the header cell's comment),
                numbers as numbers, dates as dates, ids as text; sheet names chosen to fit Excel's 31 characters
--duckdb FILE   one self-contained DuckDB file: every table as a table (not a view over files), with its
                comments, in a storage format DuckDB 1.1 and newer open anywhere
--parquet DIR   every table whole as DIR/<table>.parquet (its declared types)
--csv DIR       every table whole as DIR/<table>.csv (UTF-8 with a BOM for Excel, lists as JSON, cells a
                spreadsheet would run as formulas neutralised)

Everything is read through the analysts' door (load/door.py) and written by Python, in one rename per file.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from common.settings import SQL_DIR
from load.analyst import QueryError, render, run_query
from load.door import NoWarehouseError, open_warehouse
from load.duck import identifier, literal
from load.layout import DUCKDB_FILE, ROOT_VARIABLE, STORAGE_VERSION, comment_statements

LABELS_FILE = SQL_DIR / "analyst" / "labels.toml"
SHEET_NAME_LIMIT = 31  # Excel's
INDEX_SHEET = "คำถาม"
# columns that name things: written as text, so '5021' stays '5021' and never becomes the number 5021
ID_SUFFIXES = ("_id", "_key", "_code", "_sha256", "phone")


@dataclass(frozen=True)
class Question:
    stem: str  # the file name
    question: str  # the comment on top of the file
    sql: str

    @classmethod
    def of(cls, path: Path) -> Question:
        sql = path.read_text(encoding="utf-8")
        comment = " ".join(ln.lstrip("-").strip() for ln in sql.splitlines() if ln.startswith("--"))
        return cls(path.stem, comment, sql)


def questions() -> list[Question]:
    return [Question.of(p) for p in sorted((SQL_DIR / "analyst").glob("*.sql"))]


def labels() -> dict[str, dict[str, str]]:
    return tomllib.loads(LABELS_FILE.read_text(encoding="utf-8"))


def sheet_name(stem: str) -> str:
    """The sheet of a question: its name in labels.toml [sheets] (chosen to fit 31 characters), else its file
    name when that fits."""
    name = labels().get("sheets", {}).get(stem, stem)
    if len(name) > SHEET_NAME_LIMIT:
        raise ValueError(f"sheet name {name!r} of {stem} is over {SHEET_NAME_LIMIT} characters: give it one in "
                         f"{LABELS_FILE} [sheets]")
    return name


def _temporary(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def export_workbook(warehouse_dir: Path, path: Path) -> list[str]:
    """Write the workbook (in one rename); returns its sheet names. Raises QueryError without a warehouse."""
    names = labels()
    asked = [(q, *run_query(warehouse_dir, q.sql)) for q in questions()]
    tmp = _temporary(path)
    book = xlsxwriter.Workbook(str(tmp), {"remove_timezone": True})
    try:
        styles = _styles(book)
        _index_sheet(book, styles, [q for q, _, _ in asked], names)
        for question, columns, rows in asked:
            _question_sheet(book, styles, question, columns, rows, names)
    finally:
        book.close()
    os.replace(tmp, path)
    return [INDEX_SHEET] + [sheet_name(q.stem) for q, _, _ in asked]


def _styles(book: xlsxwriter.Workbook) -> dict:
    return {"title": book.add_format({"bold": True, "font_size": 13}),
            "header": book.add_format({"bold": True, "bg_color": "#EEEEEE", "valign": "top"}),
            "money": book.add_format({"num_format": "#,##0.00"}), "number": None,
            "date": book.add_format({"num_format": "yyyy-mm-dd"}), "text": book.add_format({"num_format": "@"}),
            "note": book.add_format({"italic": True, "text_wrap": True, "valign": "top"})}


def _index_sheet(book: xlsxwriter.Workbook, styles: dict, asked: list[Question], names: dict) -> None:
    sheet = book.add_worksheet(INDEX_SHEET)
    for col, header in enumerate(("sheet", "question_th", "question", "file")):
        sheet.write(0, col, header, styles["header"])
    for row, q in enumerate(asked, start=1):
        sheet.write_url(row, 0, f"internal:'{sheet_name(q.stem)}'!A1", string=sheet_name(q.stem))
        sheet.write(row, 1, names["questions"].get(q.stem, ""))
        sheet.write(row, 2, q.question, styles["note"])
        sheet.write(row, 3, f"sql/analyst/{q.stem}.sql")
    sheet.set_column(0, 0, 32)
    sheet.set_column(1, 2, 60)
    sheet.set_column(3, 3, 40)


def _question_sheet(book: xlsxwriter.Workbook, styles: dict, q: Question, columns: list[str], rows: list[tuple],
                    names: dict) -> None:
    """Row 1: the column names (what pandas.read_excel takes as its header); each one's Thai label in the
    header cell's comment; the data from row 2."""
    sheet = book.add_worksheet(sheet_name(q.stem))
    for col, name in enumerate(columns):
        label = names["columns"].get(name, name)
        sheet.write_string(0, col, name, styles["header"])
        sheet.write_comment(0, col, label, {"x_scale": 2})
        sheet.set_column(col, col, max(12, min(40, len(label) + 4)),
                         styles["text"] if name.endswith(ID_SUFFIXES) else None)
    for r, row in enumerate(rows, start=1):
        for col, value in enumerate(row):
            _cell(sheet, styles, r, col, columns[col], value)
    sheet.freeze_panes(1, 0)
    if rows:
        sheet.autofilter(0, 0, len(rows), len(columns) - 1)


def _cell(sheet: Worksheet, styles: dict, row: int, col: int, name: str, value: object) -> None:
    if value is None:
        sheet.write_blank(row, col, None)
    elif isinstance(value, bool):
        sheet.write_boolean(row, col, value)
    elif isinstance(value, Decimal | int | float) and not name.endswith(ID_SUFFIXES):
        style = styles["money"] if name.endswith("_thb") else styles["number"]
        sheet.write_number(row, col, float(value), style)
    elif isinstance(value, datetime | date):
        moment = value if isinstance(value, datetime) else datetime(value.year, value.month, value.day)
        sheet.write_datetime(row, col, moment, styles["date"])
    elif isinstance(value, list | tuple):
        sheet.write_string(row, col, ", ".join(map(str, value)))
    else:
        sheet.write_string(row, col, str(value), styles["text"])


def _tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [r[0] for r in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal ORDER BY 1").fetchall()]


def _arrow(con: duckdb.DuckDBPyConnection, name: str) -> pa.Table:
    relation = con.sql(f"FROM {identifier(name)}")
    return relation.to_arrow_table() if hasattr(relation, "to_arrow_table") else relation.arrow()


def export_tables(warehouse_dir: Path, folder: Path, fmt: str) -> list[Path]:
    """Every table whole, as folder/<table>.parquet or .csv; returns the files written."""
    try:
        con = open_warehouse(warehouse_dir)
    except NoWarehouseError as exc:
        raise QueryError(str(exc)) from None
    written = []
    try:
        for name in _tables(con):
            target = folder / f"{name}.{fmt}"
            tmp = _temporary(target)
            table = _arrow(con, name)
            if fmt == "parquet":
                pq.write_table(table, tmp, compression="zstd")
            else:
                rows = [tuple(r.values()) for r in table.to_pylist()]
                tmp.write_text(render(table.column_names, rows, "csv", bom=True), encoding="utf-8")
            os.replace(tmp, target)
            written.append(target)
    finally:
        con.close()
    return written


def export_duckdb(warehouse_dir: Path, path: Path) -> list[str]:
    """One self-contained DuckDB file: every table of the warehouse as a table, its comments, written in the
    storage format every DuckDB from 1.0 on reads. Returns the tables."""
    source = warehouse_dir.resolve() / DUCKDB_FILE
    if not source.exists():
        raise QueryError(f"no warehouse at {source}: run `schoolnet run` first")
    tmp = _temporary(path)
    tmp.unlink(missing_ok=True)
    con = duckdb.connect()
    try:
        con.execute(f"SET VARIABLE {ROOT_VARIABLE} = {literal(warehouse_dir.resolve().as_posix())}")
        con.execute(f"ATTACH {literal(str(source))} AS wh (READ_ONLY)")
        con.execute(f"ATTACH {literal(str(tmp))} AS portable (STORAGE_VERSION {literal(STORAGE_VERSION)})")
        names = [r[0] for r in con.execute("SELECT view_name FROM duckdb_views() WHERE database_name = 'wh' "
                                           "AND NOT internal ORDER BY 1").fetchall()]
        for name in names:
            con.execute(f"CREATE TABLE portable.{identifier(name)} AS SELECT * FROM wh.{identifier(name)}")
        con.execute("USE portable")
        for statement in comment_statements():
            con.execute(statement.replace("COMMENT ON VIEW", "COMMENT ON TABLE", 1))
        con.execute("CHECKPOINT portable")
        con.execute("USE memory")
        con.execute("DETACH portable")
        con.execute("DETACH wh")
    finally:
        con.close()
    os.replace(tmp, path)
    return names


__all__ = ["QueryError", "export_duckdb", "export_tables", "export_workbook", "labels", "questions"]
