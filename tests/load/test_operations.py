"""Operating the warehouse: deployment, incremental loads, checks into dq_issue, analyst SQL, docs."""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from common.settings import PROJECT_ROOT, SQL_DIR, Settings
from flows.stages import run_once
from load.analyst import data_dictionary, render, run_query
from load.tables import SCHEMAS
from tests.conftest import REFERENCE, SAMPLE_RAW, SEEDS


def _seeds(tmp_path: Path) -> Settings:
    if not SEEDS.is_dir():
        pytest.skip(f"real seed dumps not found at {SEEDS}")
    raw = tmp_path / "raw"
    raw.mkdir()
    for p in SEEDS.glob("*.txt"):
        shutil.copy(p, raw / p.name)
    return Settings.from_env(raw_dir=raw, warehouse_dir=tmp_path / "wh", reference_dir=REFERENCE)


def q(settings: Settings, sql: str) -> list[tuple]:
    return run_query(settings.warehouse_dir, sql)[1]


def test_nightly_deployment_schedule_and_parameters(monkeypatch, tmp_path):
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path))
    from flows.deploy import nightly_deployment

    d = nightly_deployment("data/raw", "data/warehouse")
    schedule = d.schedules[0].schedule
    assert (d.name, schedule.cron, schedule.timezone) == ("nightly", "0 2 * * *", "Asia/Bangkok")
    assert {"fiscal_year", "full_refresh"} <= set(d.parameters) and d.parameters["fiscal_year"] is None
    assert d.concurrency_limit == 1 and d.entrypoint.endswith("flows/etl.py:etl_flow")


def test_changed_file_replaces_its_contribution_and_removed_file_leaves(tmp_path):
    s = _seeds(tmp_path)
    run_once(s)
    path = s.raw_dir / "003_4388095a2d907049.txt"
    path.write_text(path.read_text(encoding="utf-8").replace("= 15.00 %", "= 17.00 %"), encoding="utf-8")
    summary = run_once(s)
    assert (summary.files["loaded"], summary.files["unchanged"]) == (1, 4)
    rows = q(s, "SELECT report_no, progress_pct FROM fact_monthly_progress "
                "WHERE project_key = '2563-50010000-3358' AND report_no = 3")
    assert rows == [(3, Decimal("17.00"))]
    assert q(s, "SELECT count(*) FROM fact_monthly_progress")[0][0] == 34
    statuses = q(s, "SELECT status, count(*) FROM ingest_ledger WHERE run_id = (SELECT max(run_id) FROM ingest_ledger) "
                    "GROUP BY 1 ORDER BY 1")
    assert statuses == [("loaded", 1), ("unchanged", 4)]
    path.unlink()
    run_once(s)
    assert q(s, "SELECT count(*) FROM dim_project WHERE project_code = '50010000-3358'")[0][0] == 0


def test_sql_check_failures_go_to_dq_issue(tmp_path):
    s = _seeds(tmp_path)
    path = s.raw_dir / "003_4388095a2d907049.txt"
    path.write_text(path.read_text(encoding="utf-8").replace("= 25.00 %", "= 125.00 %"), encoding="utf-8")
    summary = run_once(s)
    assert summary.check_failures == 1  # errors; implausible-but-possible values are warnings
    rows = q(s, "SELECT check_name, severity, detail FROM dq_issue WHERE check_name LIKE 'progress%' ORDER BY 1")
    assert rows == [("progress_never_decreases", "warning", "report 6: progress 40.00 % after 125.00 %"),
                    ("progress_within_0_100", "error", "report 5: progress 125.00 %")]
    assert q(s, "SELECT progress_pct FROM fact_monthly_progress WHERE project_key = '2563-50010000-3358' "
                "AND report_no = 5") == [(Decimal("125.00"),)]  # kept as printed, not corrected


def test_every_table_and_column_is_commented(tmp_path):
    con = duckdb.connect()
    try:
        text = data_dictionary()
        for name, schema in SCHEMAS.items():
            assert f"## {name}" in text
            for f in schema:
                line = next(ln for ln in text.splitlines() if ln.startswith(f"| {f.name} |") and ln.count("|") == 4)
                assert "[source:" in line
    finally:
        con.close()


def test_data_dictionary_in_docs_is_up_to_date():
    assert (PROJECT_ROOT / "docs" / "data_dictionary.md").read_text(encoding="utf-8") == data_dictionary() + "\n"


def test_comments_are_in_the_warehouse_file(tmp_path):
    s = _seeds(tmp_path)
    run_once(s)
    missing = q(s, "SELECT table_name, column_name FROM duckdb_columns() WHERE comment IS NULL AND table_name IN "
                   "(SELECT view_name FROM duckdb_views() WHERE NOT internal)")
    assert missing == []


@pytest.fixture(scope="module")
def seed_wh(tmp_path_factory):
    s = _seeds(tmp_path_factory.mktemp("analyst"))
    (s.raw_dir / "garbage.bin").write_bytes(b"\x00\xff")
    run_once(s)
    return s


def analyst(name: str) -> str:
    return (SQL_DIR / "analyst" / f"{name}.sql").read_text(encoding="utf-8")


def test_analyst_budget_burn(seed_wh):
    rows = {(r[0], r[1]): r[-1] for r in q(seed_wh, analyst("budget_burn_by_district_and_year"))}
    assert rows[(2564, "5002")] == 100.0 and rows[(2564, "5021")] == 66.7


def test_analyst_printed_spent_discrepancies(seed_wh):
    rows = q(seed_wh, analyst("printed_spent_discrepancies"))
    assert [(r[0], r[4], r[5], r[7]) for r in rows] == [
        ("2564-50020000-3255", Decimal("360000.00"), Decimal("90000.00"), True)]


def test_analyst_networks_never_disbursed(seed_wh):
    """Dump 001's network 53 (FY 2564) did not disburse because of COVID-19; networks 71 and 72 (dump 002, a web
    page without money) are unknown, not 'never disbursed'."""
    rows = q(seed_wh, analyst("networks_never_disbursed"))
    assert [(r[0], r[1], r[3], r[4], r[6], r[7]) for r in rows] == [
        (53, "5021", 2564, Decimal("90000.00"), "2564-50210000-3491", 10)]
    assert "COVID-19" in rows[0][5]
    marts = dict(q(seed_wh, "SELECT network_no, disbursed FROM mart_network_year WHERE fiscal_year = 2564"))
    assert marts == {53: "no", 54: "yes", 55: "yes"}
    assert {r[0] for r in q(seed_wh, "SELECT disbursed FROM mart_network_year WHERE network_no IN (71, 72)")} == {
        "unknown"}


def test_analyst_progress_vs_time(seed_wh):
    rows = {r[0]: r[-1] for r in q(seed_wh, analyst("progress_vs_time_elapsed"))}
    assert float(rows["2563-50010000-3358"]) == -40.5


def test_analyst_reports_without_date(seed_wh):
    assert [(r[0], r[2], r[3]) for r in q(seed_wh, analyst("reports_without_date"))] == [
        ("2564-50020000-3255", 5, date(2021, 2, 1))]


def test_analyst_coordinator_workload(seed_wh):
    assert sorted(r[1] for r in q(seed_wh, analyst("coordinator_workload"))) == [
        "ภานุพงศ์ ศิริบุญ", "วรวิทย์ เทียงธรรม", "ศศิวัฒน์ บุญวงศ์"]


def test_analyst_monthly_disbursement_timeline_sums_to_last_running_totals(seed_wh):
    rows = q(seed_wh, analyst("monthly_disbursement_timeline"))
    assert sum(r[3] for r in rows) == Decimal("270000.00")


def test_analyst_files_quarantined(seed_wh):
    assert [r[0] for r in q(seed_wh, analyst("files_quarantined_last_run"))] == ["garbage.bin"]


@pytest.fixture(scope="module")
def sample_wh(tmp_path_factory):
    s = Settings.from_env(raw_dir=SAMPLE_RAW, warehouse_dir=tmp_path_factory.mktemp("sample"), reference_dir=REFERENCE)
    run_once(s)
    return s


def test_analyst_projects_behind_plan(sample_wh):
    rows = q(sample_wh, analyst("projects_behind_plan"))
    assert [(r[1], r[7]) for r in rows] == [("2565-50110000-9001", "off_plan")]


def test_analyst_identities_to_review(sample_wh):
    rows = q(sample_wh, analyst("identities_to_review"))
    assert [(r[0], r[1], r[3]) for r in rows] == [("school", "not_in_registry", "สมมุติวิทยา")]


def test_every_analyst_query_is_tested():
    tested = Path(__file__).read_text(encoding="utf-8")
    for path in (SQL_DIR / "analyst").glob("*.sql"):
        assert f'analyst("{path.stem}")' in tested, path.name


@pytest.mark.parametrize("fmt", ["table", "csv", "json"])
def test_query_command_formats(seed_wh, fmt):
    sql = "SELECT district_id, name_en FROM dim_district WHERE district_id = '5021'"
    out = subprocess.run([sys.executable, "-m", "schoolnet.cli", "query", sql,
                          "--warehouse-dir", str(seed_wh.warehouse_dir), "--format", fmt],
                         capture_output=True, text=True, check=True).stdout
    assert out.strip() == render(["district_id", "name_en"], [("5021", "Phasi Charoen")], fmt).strip()
    assert "Phasi Charoen" in out


def test_query_command_explains_errors(tmp_path):
    out = subprocess.run([sys.executable, "-m", "schoolnet.cli", "query", "SELECT 1", "--warehouse-dir", str(tmp_path)],
                         capture_output=True, text=True)
    assert out.returncode == 1 and "run `schoolnet run` first" in out.stderr
