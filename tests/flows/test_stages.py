"""The whole run without Prefect: seeds and the shipped sample into temporary warehouses."""

from __future__ import annotations

import shutil
from decimal import Decimal

import pytest

from common.settings import Settings
from flows.lock import RunLockedError, warehouse_lock
from flows.stages import run_once
from load.door import open_warehouse
from load.tables import SCHEMAS
from tests.conftest import REFERENCE, SAMPLE_RAW, SEEDS

CONTRACT_COLUMNS = {
    "dim_district": ["district_id", "name_th", "name_en"],
    "dim_network": ["network_no", "district_id"],
    "dim_school": ["school_id", "name_th", "network_no", "district_id"],
    "dim_coordinator": ["coordinator_id", "name_th", "title_th", "phone"],
    "dim_officer": ["officer_id", "name_th", "title_th", "phone"],
    "dim_project": ["project_key", "project_code", "fiscal_year", "name_th", "district_id", "budget_thb",
                    "reported_spent_thb", "start_date", "end_date", "officer_id", "coordinator_id", "source_layout"],
    "bridge_project_network": ["project_key", "network_no"],
    "fact_monthly_progress": ["project_key", "fiscal_year", "report_no", "report_date", "period_month",
                              "month_imputed", "progress_pct", "plan_status", "target_status", "note_th",
                              "source_file"],
    "fact_disbursement": ["project_key", "fiscal_year", "report_no", "report_date", "period_month",
                          "cumulative_disbursed_thb", "disbursed_thb", "source_file"],
    "entity_alias": ["entity_type", "raw_text", "canonical_id", "canonical_name", "score", "method", "source_file"],
    "dq_issue": ["source_file", "project_key", "check_name", "severity", "detail"],
    "ingest_ledger": ["run_id", "source_file", "content_sha256", "status", "reason"],
}


@pytest.fixture(scope="module")
def seed_warehouse(tmp_path_factory):
    if not SEEDS.is_dir():
        pytest.skip(f"real seed dumps not found at {SEEDS}")
    raw = tmp_path_factory.mktemp("raw")
    for p in SEEDS.glob("*.txt"):
        shutil.copy(p, raw / p.name)
    (raw / "garbage.bin").write_bytes(b"\x00\x01\x02binary")
    (raw / "empty.txt").write_text("")
    wh = tmp_path_factory.mktemp("wh")
    settings = Settings.from_env(raw_dir=raw, warehouse_dir=wh, reference_dir=REFERENCE)
    summary = run_once(settings)
    return settings, summary


def query(settings, sql, params=None):
    con = open_warehouse(settings.warehouse_dir)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def test_every_contract_table_and_column(seed_warehouse):
    settings, _ = seed_warehouse
    for table, columns in CONTRACT_COLUMNS.items():
        got = [r[0] for r in query(settings, f"DESCRIBE {table}")]
        assert set(columns) <= set(got), table


def test_money_exact_percent_and_date_types(seed_warehouse):
    settings, _ = seed_warehouse
    types = dict(query(settings, "SELECT column_name, column_type FROM (DESCRIBE fact_disbursement)"))
    assert types["cumulative_disbursed_thb"].startswith("DECIMAL") and types["report_date"] == "DATE"
    types = dict(query(settings, "SELECT column_name, column_type FROM (DESCRIBE fact_monthly_progress)"))
    assert types["progress_pct"] == "DECIMAL(5,2)" and types["month_imputed"] == "BOOLEAN"


def test_facts_are_partitioned_by_fiscal_year(seed_warehouse):
    settings, _ = seed_warehouse
    parts = sorted(p.name for p in (settings.warehouse_dir / "fact_monthly_progress").glob("fiscal_year=*"))
    assert parts == ["fiscal_year=2563", "fiscal_year=2564", "fiscal_year=2566"]


def test_cumulative_disbursement_and_printed_spent_flag(seed_warehouse):
    settings, _ = seed_warehouse
    rows = query(settings, "SELECT report_no, cumulative_disbursed_thb, disbursed_thb FROM fact_disbursement "
                           "WHERE project_key = '2564-50020000-3255' ORDER BY report_no")
    assert rows[8] == (9, Decimal("90000.00"), Decimal("90000.00"))
    assert sum(r[2] for r in rows) == Decimal("90000.00")
    flags = query(settings, "SELECT project_key FROM dq_issue WHERE check_name = 'printed_spent_mismatch'")
    assert flags == [("2564-50020000-3255",)]


def test_projects_and_districts(seed_warehouse):
    settings, _ = seed_warehouse
    rows = query(settings, "SELECT p.project_code, p.fiscal_year, p.district_id, d.name_en, p.source_layout "
                           "FROM dim_project p JOIN dim_district d USING (district_id) ORDER BY p.fiscal_year")
    assert rows == [(None, 2562, "5024", "Rat Burana", "proposal"),
                    ("50010000-3358", 2563, "5001", "Phra Nakhon", "progress_form"),
                    ("50020000-3255", 2564, "5002", "Pom Prap Sattru Phai", "progress_form"),
                    ("50210000-3491", 2564, "5021", "Phasi Charoen", "progress_form"),
                    ("50230000-3598", 2566, "5023", "Bang Khun Thian", "web_progress")]


def test_missing_date_is_null_with_imputed_month(seed_warehouse):
    settings, _ = seed_warehouse
    rows = query(settings, "SELECT report_date, period_month, month_imputed FROM fact_monthly_progress "
                           "WHERE project_key = '2564-50020000-3255' AND report_no = 5")
    assert rows == [(None, __import__("datetime").date(2021, 2, 1), True)]


def test_people_link_to_projects(seed_warehouse):
    settings, _ = seed_warehouse
    rows = query(settings, "SELECT c.name_th, o.name_th FROM dim_project p JOIN dim_coordinator c "
                           "USING (coordinator_id) JOIN dim_officer o USING (officer_id) "
                           "WHERE p.project_code = '50210000-3491'")
    assert rows == [("วรวิทย์ เทียงธรรม", "ณัฐพิมล สิริภักดิ์กุล")]


def test_unreadable_files_are_quarantined_with_a_reason(seed_warehouse):
    settings, summary = seed_warehouse
    rows = dict(query(settings, "SELECT source_file, reason FROM ingest_ledger WHERE status = 'quarantined'"))
    assert set(rows) == {"garbage.bin", "empty.txt"}
    assert "empty" in rows["empty.txt"] and "binary" in rows["garbage.bin"]
    assert summary.files["loaded"] == 5 and summary.files["quarantined"] == 2


def test_sql_checks_pass_on_seeds(seed_warehouse):
    _, summary = seed_warehouse
    assert summary.check_failures == 0


def test_rerun_marks_unchanged_and_changes_no_fact(seed_warehouse):
    settings, _ = seed_warehouse
    before = query(settings, "SELECT * FROM fact_monthly_progress ORDER BY project_key, report_no")
    summary = run_once(settings)
    assert summary.files["unchanged"] == 5 and summary.files["loaded"] == 0
    assert query(settings, "SELECT * FROM fact_monthly_progress ORDER BY project_key, report_no") == before


def test_fiscal_year_rerun_leaves_other_years_untouched(seed_warehouse):
    settings, _ = seed_warehouse
    facts = settings.warehouse_dir / "fact_monthly_progress"
    others = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in facts.glob("fiscal_year=2563/*.parquet")}
    rerun = set(facts.glob("fiscal_year=2564/*.parquet"))
    assert others and rerun
    run_once(settings, fiscal_year=2564)
    assert {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in facts.glob("fiscal_year=2563/*.parquet")} == others
    assert not rerun & set(facts.glob("fiscal_year=2564/*.parquet"))  # that year was written again
    assert query(settings, "SELECT count(*) FROM fact_monthly_progress")[0][0] == 34


def test_second_run_at_once_stops_with_a_clear_message(seed_warehouse):
    import fcntl

    settings, _ = seed_warehouse
    with (settings.warehouse_dir / ".run.lock").open("w") as other_run:  # as another process holds it
        fcntl.flock(other_run, fcntl.LOCK_EX)
        with pytest.raises(RunLockedError, match="another schoolnet run"):
            run_once(settings)


def test_the_lock_is_reentrant_within_one_process(seed_warehouse):
    """The CLI takes the lock before the flow starts; the flow it calls takes it again."""
    settings, _ = seed_warehouse
    with warehouse_lock(settings.warehouse_dir):
        assert run_once(settings).files["unchanged"] == 5


def test_shipped_sample_runs(tmp_path):
    settings = Settings.from_env(raw_dir=SAMPLE_RAW, warehouse_dir=tmp_path, reference_dir=REFERENCE)
    summary = run_once(settings)
    assert summary.files["loaded"] == 3 and summary.files["quarantined"] == 1
    assert summary.rows["fact_monthly_progress"] == 5
    assert set(SCHEMAS) <= {p.name for p in tmp_path.iterdir() if p.is_dir()}


def test_memory_of_a_run_does_not_grow_with_documents(tmp_path):
    """Twenty copies of each sample dump: the run keeps tallies, not documents, yet loses no row."""
    import pickle

    from flows.stages import ingest, load, new_run_id, resolve

    sample = [p for p in sorted(SAMPLE_RAW.iterdir()) if p.suffix == ".txt" and "not_a_report" not in p.name]
    sizes, aliases = {}, {}
    for copies in (1, 20):
        raw = tmp_path / f"raw{copies}"
        raw.mkdir()
        for n in range(copies):
            for p in sample:
                shutil.copy(p, raw / f"{n:02d}_{p.name}")
        settings = Settings.from_env(raw_dir=raw, warehouse_dir=tmp_path / f"wh{copies}", reference_dir=REFERENCE)
        run_id = new_run_id()
        with warehouse_lock(settings.warehouse_dir):
            ingested = ingest(settings, run_id=run_id)
            # the plan holds a name per file (the listing); what parsing leaves besides is tallies
            sizes[copies] = len(pickle.dumps((ingested.evidence, ingested.files, ingested.quarantined)))
            resolution, reference = resolve(ingested, settings, run_id)
            summary = load(ingested, resolution, reference, settings, run_id)
        assert summary.files["loaded"] == copies * len(sample)
        aliases[copies] = query(settings, "SELECT count(*) FROM entity_alias")[0][0]
    assert sizes[20] < 1.5 * sizes[1]  # what a run holds after parsing: tallies, not 20x the documents
    assert aliases[20] == 20 * aliases[1] > 0  # every mention of every file is still an alias row
