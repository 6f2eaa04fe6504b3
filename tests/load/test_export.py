"""schoolnet export --xlsx: one sheet per analyst question, Thai headers, numbers and dates as such."""

import subprocess
import sys
from datetime import datetime

import openpyxl
import pytest

from common.settings import Settings
from flows.stages import run_once
from load.analyst import run_query
from load.export import labels, questions, sheet_name
from tests.conftest import REFERENCE, SAMPLE_RAW, SEEDS


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    wh = tmp_path_factory.mktemp("export")
    raw = SEEDS if SEEDS.is_dir() else SAMPLE_RAW
    run_once(Settings.from_env(raw_dir=raw, warehouse_dir=wh, reference_dir=REFERENCE))
    return wh


def test_every_column_of_every_question_has_a_thai_label(warehouse):
    names = labels()
    for q in questions():
        assert q.stem in names["questions"], q.stem
        columns, _ = run_query(warehouse, q.sql)
        assert set(columns) <= set(names["columns"]), (q.stem, set(columns) - set(names["columns"]))


def test_the_workbook_reads_back_with_numbers_as_numbers_and_dates_as_dates(warehouse, tmp_path):
    out = tmp_path / "out" / "schoolnet.xlsx"
    done = subprocess.run([sys.executable, "-m", "schoolnet.cli", "export", "--xlsx", str(out), "--warehouse-dir",
                           str(warehouse)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["คำถาม"] + [sheet_name(q.stem) for q in questions()]
    for q in questions():
        sheet = book[sheet_name(q.stem)]
        columns, rows = run_query(warehouse, q.sql)
        headers = [c.value for c in sheet[4]]
        assert [h.split("\n")[1] for h in headers] == columns
        assert all(any("\u0e00" <= ch <= "\u0e7f" for ch in h.split("\n")[0]) for h in headers)  # Thai headers
        assert sheet.max_row == 4 + len(rows)
        for row, cells in zip(rows, sheet.iter_rows(min_row=5), strict=True):
            for value, cell in zip(row, cells, strict=True):
                if value is None:
                    assert cell.value is None
                elif hasattr(value, "year"):
                    assert isinstance(cell.value, datetime) and cell.value.date() == value
                elif isinstance(value, bool):
                    assert cell.value is value
                elif not isinstance(value, str | list):
                    assert cell.data_type == "n" and cell.value == pytest.approx(float(value))
    budget = book[sheet_name("budget_burn_by_district_and_year")]
    assert budget["E5"].number_format == "#,##0.00" and isinstance(budget["E5"].value, int | float)


def test_export_without_a_warehouse_is_one_clear_line(tmp_path):
    done = subprocess.run([sys.executable, "-m", "schoolnet.cli", "export", "--xlsx", str(tmp_path / "x.xlsx"),
                           "--warehouse-dir", str(tmp_path / "none")], capture_output=True, text=True)
    assert done.returncode == 1 and done.stderr.count("\n") == 1 and "run `schoolnet run` first" in done.stderr
    assert not (tmp_path / "x.xlsx").exists()
