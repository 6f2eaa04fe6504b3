"""`schoolnet export --xlsx FILE`: the answers to the questions of sql/analyst/, one sheet each, for people who
would rather open a spreadsheet. Headers in Thai (sql/analyst/labels.toml) with the column's own name under
them; numbers stay numbers and dates stay dates, so Excel sorts, sums and filters them."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from common.settings import SQL_DIR
from load.analyst import QueryError, run_query

LABELS_FILE = SQL_DIR / "analyst" / "labels.toml"
SHEET_NAME_LIMIT = 31  # Excel's


@dataclass(frozen=True)
class Question:
    stem: str  # the file name, which is also the sheet's name
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
    return stem[:SHEET_NAME_LIMIT]


def export_workbook(warehouse_dir: Path, path: Path) -> list[str]:
    """Write the workbook (in one rename); returns its sheet names. Raises QueryError without a warehouse."""
    names = labels()
    asked = [(q, *run_query(warehouse_dir, q.sql)) for q in questions()]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    book = xlsxwriter.Workbook(str(tmp), {"remove_timezone": True})
    try:
        styles = _styles(book)
        _index_sheet(book, styles, [q for q, _, _ in asked], names)
        for question, columns, rows in asked:
            _question_sheet(book, styles, question, columns, rows, names)
    finally:
        book.close()
    os.replace(tmp, path)
    return ["คำถาม"] + [sheet_name(q.stem) for q, _, _ in asked]


def _styles(book: xlsxwriter.Workbook) -> dict:
    return {"title": book.add_format({"bold": True, "font_size": 13}),
            "header": book.add_format({"bold": True, "bg_color": "#EEEEEE", "text_wrap": True, "valign": "top"}),
            "money": book.add_format({"num_format": "#,##0.00"}), "number": None,
            "date": book.add_format({"num_format": "yyyy-mm-dd"}), "note": book.add_format({"italic": True})}


def _index_sheet(book: xlsxwriter.Workbook, styles: dict, asked: list[Question], names: dict) -> None:
    sheet = book.add_worksheet("คำถาม")
    sheet.write(0, 0, "คำถาม · Questions (one sheet each)", styles["title"])
    for row, q in enumerate(asked, start=2):
        sheet.write_url(row, 0, f"internal:'{sheet_name(q.stem)}'!A1", string=sheet_name(q.stem))
        sheet.write(row, 1, names["questions"].get(q.stem, ""))
        sheet.write(row, 2, q.question)
    sheet.set_column(0, 0, 34)
    sheet.set_column(1, 2, 60)


def _question_sheet(book: xlsxwriter.Workbook, styles: dict, q: Question, columns: list[str], rows: list[tuple],
                    names: dict) -> None:
    sheet = book.add_worksheet(sheet_name(q.stem))
    sheet.write(0, 0, names["questions"].get(q.stem, q.stem), styles["title"])
    sheet.write(1, 0, q.question, styles["note"])
    for col, name in enumerate(columns):
        sheet.write(3, col, f"{names['columns'].get(name, name)}\n{name}", styles["header"])
        sheet.set_column(col, col, max(12, min(40, len(names["columns"].get(name, name)) + 4)))
    for r, row in enumerate(rows, start=4):
        for col, value in enumerate(row):
            _cell(sheet, styles, r, col, columns[col], value)
    sheet.freeze_panes(4, 0)
    if rows:
        sheet.autofilter(3, 0, 3 + len(rows), len(columns) - 1)


def _cell(sheet: Worksheet, styles: dict, row: int, col: int, name: str, value: object) -> None:
    if value is None:
        sheet.write_blank(row, col, None)
    elif isinstance(value, bool):
        sheet.write_boolean(row, col, value)
    elif isinstance(value, Decimal | int | float):
        style = styles["money"] if name.endswith("_thb") else styles["number"]
        sheet.write_number(row, col, float(value), style)
    elif isinstance(value, datetime | date):
        moment = value if isinstance(value, datetime) else datetime(value.year, value.month, value.day)
        sheet.write_datetime(row, col, moment, styles["date"])
    elif isinstance(value, list | tuple):
        sheet.write_string(row, col, ", ".join(map(str, value)))
    else:
        sheet.write_string(row, col, str(value))


__all__ = ["QueryError", "export_workbook", "labels", "questions"]
