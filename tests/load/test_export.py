"""schoolnet export --xlsx: one sheet per analyst question, Thai headers, numbers and dates as such."""

import json
import subprocess
import sys
from datetime import datetime

import openpyxl
import pandas as pd
import pytest

from common.settings import Settings
from flows.stages import run_once
from load.analyst import run_query
from load.export import ID_SUFFIXES, labels, questions, sheet_name
from tests.conftest import REFERENCE, SAMPLE_RAW, SEEDS
from tests.load.test_warehouse_portability import _old_duckdb


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
    assert all(len(name) <= 31 for name in book.sheetnames) and len(set(book.sheetnames)) == len(book.sheetnames)
    frames = pd.read_excel(out, sheet_name=None)  # pandas with its defaults: one header row
    for q in questions():
        sheet = book[sheet_name(q.stem)]
        columns, rows = run_query(warehouse, q.sql)
        assert [c.value for c in sheet[1]] == columns == list(frames[sheet_name(q.stem)].columns)
        labelled = labels()["columns"]
        assert [c.comment.text for c in sheet[1]] == [labelled[c] for c in columns]  # the Thai label, in a comment
        assert sheet.max_row == 1 + len(rows) and len(frames[sheet_name(q.stem)]) == len(rows)
        for row, cells in zip(rows, sheet.iter_rows(min_row=2), strict=True):
            for name, value, cell in zip(columns, row, cells, strict=True):
                if value is None:
                    assert cell.value is None
                elif name.endswith(ID_SUFFIXES):
                    assert cell.data_type == "s" and cell.value == str(value)  # '5021' stays text
                elif hasattr(value, "year"):
                    assert isinstance(cell.value, datetime) and cell.value.date() == value
                elif isinstance(value, bool):
                    assert cell.value is value
                elif not isinstance(value, str | list):
                    assert cell.data_type == "n" and cell.value == pytest.approx(float(value))
    budget = book[sheet_name("budget_burn_by_district_and_year")]
    assert budget["E2"].number_format == "#,##0.00" and isinstance(budget["E2"].value, int | float)
    assert budget["B2"].data_type == "s" and budget["B2"].value.isdigit()  # a district id, as text


def test_a_portable_duckdb_file_has_every_table_and_opens_in_duckdb_1_1(warehouse, tmp_path):
    out = tmp_path / "laptop" / "schoolnet.duckdb"
    done = subprocess.run([sys.executable, "-m", "schoolnet.cli", "export", "--duckdb", str(out), "--warehouse-dir",
                           str(warehouse)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    moved = tmp_path / "elsewhere.duckdb"
    out.rename(moved)  # self-contained: nothing points back at the warehouse
    script = ("import duckdb, json, sys\ncon = duckdb.connect(sys.argv[1], read_only=True)\n"
              "tables = [r[0] for r in con.execute(\"SELECT table_name FROM duckdb_tables()\").fetchall()]\n"
              "print(json.dumps({t: con.execute(f'SELECT count(*) FROM {t}').fetchall()[0][0] for t in tables} | "
              "{'_comments': con.execute('SELECT count(*) FROM duckdb_columns() WHERE comment IS NOT NULL')"
              ".fetchall()[0][0], '_views': con.execute('SELECT count(*) FROM duckdb_views() WHERE NOT internal')"
              ".fetchall()[0][0]}))\n")
    old = subprocess.run([str(_old_duckdb("1.1.0")), "-c", script, str(moved)], capture_output=True, text=True,
                         timeout=120, cwd=tmp_path)
    assert old.returncode == 0, old.stderr[-2000:]
    counts = json.loads(old.stdout)
    assert counts.pop("_views") == 0 and counts.pop("_comments") > 150
    for name, n in counts.items():
        assert run_query(warehouse, f"SELECT count(*) FROM {name}")[1] == [(n,)], name
    assert "dim_project" in counts and "mart_network_year" in counts


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_every_table_whole_as_files(warehouse, tmp_path, fmt):
    done = subprocess.run([sys.executable, "-m", "schoolnet.cli", "export", f"--{fmt}", str(tmp_path / fmt),
                           "--warehouse-dir", str(warehouse)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    files = sorted((tmp_path / fmt).glob(f"*.{fmt}"))
    for path in files:
        n = run_query(warehouse, f"SELECT count(*) FROM {path.stem}")[1][0][0]
        if fmt == "parquet":
            assert pd.read_parquet(path).shape[0] == n
        else:
            assert path.read_bytes().startswith(b"\xef\xbb\xbf")
            assert pd.read_csv(path, encoding="utf-8-sig", dtype=str).shape[0] == n
    assert {p.stem for p in files} >= {"dim_project", "fact_disbursement", "dim_agency"}


def test_export_without_a_warehouse_is_one_clear_line(tmp_path):
    done = subprocess.run([sys.executable, "-m", "schoolnet.cli", "export", "--xlsx", str(tmp_path / "x.xlsx"),
                           "--warehouse-dir", str(tmp_path / "none")], capture_output=True, text=True)
    assert done.returncode == 1 and done.stderr.count("\n") == 1 and "run `schoolnet run` first" in done.stderr
    assert not (tmp_path / "x.xlsx").exists()
