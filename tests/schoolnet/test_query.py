"""`schoolnet query` as an analyst (and an attacker) meets it: only reads run, nothing outside the warehouse is
seen, and what it prints opens cleanly in a terminal, a spreadsheet or a JSON reader."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal

import pytest

from common.settings import Settings
from flows.stages import run_once
from tests.conftest import REFERENCE, SAMPLE_RAW


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    root = tmp_path_factory.mktemp("query")
    for name in ("wh", "other"):
        run_once(Settings.from_env(raw_dir=SAMPLE_RAW, warehouse_dir=root / name, reference_dir=REFERENCE))
    return root / "wh"


def query(warehouse, sql, *options, cwd=None):
    return subprocess.run([sys.executable, "-m", "schoolnet.cli", "query", sql, "--warehouse-dir", str(warehouse),
                           *options], capture_output=True, text=True, cwd=cwd)


def _snapshot(folder):
    return sorted((str(p.relative_to(folder)), p.stat().st_size, p.stat().st_mtime_ns)
                  for p in folder.rglob("*") if p.is_file() and "_state" not in p.parts)


@pytest.mark.parametrize("attack", [
    "COPY (SELECT 'pwned' AS name_th) TO '{wh}/current/dim_district/part-0.parquet'",
    "COPY (SELECT 'x' AS project_key) TO '{wh}/current/dim_project/zz.parquet'",
    "COPY (SELECT 1) TO '{wh}/warehouse.duckdb'",
    "ATTACH '{other}/warehouse.duckdb' AS o (READ_WRITE); CREATE OR REPLACE VIEW o.dim_project AS SELECT 1",
    "SELECT 1; COPY (SELECT 1) TO '/tmp/schoolnet-attack.csv'",
    "INSTALL httpfs", "LOAD httpfs", "CREATE TABLE my_notes AS SELECT 1", "SET enable_external_access = true",
    "SELECT * FROM read_csv('/etc/passwd')", "SELECT * FROM read_parquet('{other}/current/dim_project/*.parquet')",
    "SELECT * FROM read_text('{wh}/_state/store/manifest.json')",
])
def test_only_reads_of_the_warehouse_run(warehouse, attack):
    other = warehouse.parent / "other"
    before, before_other = _snapshot(warehouse), _snapshot(other)
    out = query(warehouse, attack.format(wh=warehouse, other=other))
    assert out.returncode == 1 and out.stdout == "" and out.stderr.count("\n") == 1, (out.stdout, out.stderr)
    assert out.stderr.startswith("schoolnet: ") and "Traceback" not in out.stderr
    assert _snapshot(warehouse) == before and _snapshot(other) == before_other


def test_several_statements_print_each_result(warehouse):
    out = query(warehouse, "SELECT count(*) AS n FROM dim_project; SELECT count(*) AS d FROM dim_district")
    assert out.returncode == 0, out.stderr
    assert "-- statement 1" in out.stdout and "-- statement 2" in out.stdout and "50" in out.stdout


def test_csv_for_spreadsheets(warehouse, tmp_path):
    sql = ("SELECT '=HYPERLINK(\"http://evil.example\",\"x\")' AS a, '=cmd|'' /C calc''!A0' AS b, '@SUM(1)' AS c, "
           "'+1' AS d, -5 AS n, [1, 2] AS l, 'ภาษีเจริญ' AS thai")
    printed = query(warehouse, sql, "--format", "csv")
    assert printed.returncode == 0 and not printed.stdout.startswith("\ufeff")  # a terminal or a pipe: no BOM
    lines = printed.stdout.splitlines()
    assert lines[0] == "a,b,c,d,n,l,thai"
    assert lines[1] == "\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\")\",'=cmd|' /C calc'!A0,'@SUM(1),'+1,-5," \
                       "\"[1, 2]\",ภาษีเจริญ"
    out = tmp_path / "answer.csv"
    assert query(warehouse, sql, "--format", "csv", "--output", str(out)).returncode == 0
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")  # Excel on Windows reads the Thai right
    assert query(warehouse, sql, "--format", "csv", "--output", str(out), "--no-bom").returncode == 0
    assert not out.read_bytes().startswith(b"\xef\xbb\xbf")


def test_json_keeps_money_exact_and_lists_as_lists(warehouse):
    out = query(warehouse, "SELECT 1234567890123456.78::DECIMAL(18,2) AS m, [1, 2] AS l, DATE '2021-08-20' AS d, "
                           "NULL AS x", "--format", "json")
    assert out.returncode == 0
    [row] = json.loads(out.stdout, parse_float=Decimal)
    assert row == {"m": Decimal("1234567890123456.78"), "l": [1, 2], "d": "2021-08-20", "x": None}


def test_control_characters_never_reach_the_terminal(warehouse):
    out = query(warehouse, "SELECT 'a' || chr(27) || '[31mred' || chr(10) || 'FORGED LINE' AS \"name\" ")
    assert out.returncode == 0 and "\x1b" not in out.stdout
    assert "\\x1b[31mred\\nFORGED LINE" in out.stdout and len(out.stdout.splitlines()) == 4


def test_a_closed_pipe_ends_quietly(warehouse):
    cmd = f"{sys.executable} -m schoolnet.cli query 'SELECT * FROM range(200000)' " \
          f"--warehouse-dir '{warehouse}' | head -n 2"
    out = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], capture_output=True, text=True)
    assert out.stdout.count("\n") == 2 and out.stderr == "", out.stderr
