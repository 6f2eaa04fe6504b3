"""sql/models.toml: every SQL file is declared there, in an order that builds, and its generated tests
catch what they claim to catch."""

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from common.settings import SQL_DIR
from load.models import ModelsError, load_project
from load.publish import run_checks
from load.tables import SCHEMAS


def test_every_sql_file_is_declared_once():
    project = load_project()
    declared = {("staging", m.name) for m in project.staging} | {("marts", m.name) for m in project.marts}
    declared |= {("checks", t.check_name) for t in project.tests if not t.table}
    on_disk = {(p.parent.name, p.stem) for folder in ("staging", "marts", "checks")
               for p in (SQL_DIR / folder).glob("*.sql")}
    assert declared == on_disk


def test_a_model_that_is_not_there_is_refused(tmp_path):
    bad = tmp_path / "models.toml"
    bad.write_text('[[staging]]\nname = "no_such_model"\n', encoding="utf-8")
    with pytest.raises(ModelsError, match="no_such_model"):
        load_project(bad)
    bad.write_text('[[tests]]\ntable = "dim_project"\nnot_null = ["no_such_column"]\n', encoding="utf-8")
    with pytest.raises(ModelsError, match="no_such_column"):
        load_project(bad)


def _version(tmp_path: Path, tables: dict[str, list[dict]]) -> Path:
    version = tmp_path / "v"
    for name, schema in SCHEMAS.items():
        path = version / name / "part-0.parquet"
        path.parent.mkdir(parents=True)
        pq.write_table(pa.Table.from_pylist(tables.get(name, []), schema=schema), path)
    return version


def _project(**over) -> dict:
    return {"project_key": "2564-P", "project_code": None, "fiscal_year": 2564, "name_th": "x", "district_id": "5021",
            "budget_thb": None, "reported_spent_thb": None, "start_date": None, "end_date": None,
            "officer_id": None, "coordinator_id": None, "source_layout": "progress_form", "unit_th": None,
            "source_file": "a.txt", **over}


def test_generated_tests_catch_duplicates_nulls_strangers_and_orphans(tmp_path):
    version = _version(tmp_path, {
        "dim_district": [{"district_id": "5021", "name_th": "ภาษีเจริญ", "name_en": "x"}],
        "dim_project": [_project(), _project(source_file="b.txt"),  # a duplicate key
                        _project(project_key="2564-Q", source_layout="fax", district_id="9999")],
        "fact_monthly_progress": [{"project_key": "2564-Z", "fiscal_year": 2564, "report_no": 1,
                                   "month_imputed": None, "source_file": "c.txt", "plan_status": "on_plan"}],
    })
    failures = run_checks(version, sorted(SCHEMAS))
    found = {(f.check_name, f.detail) for f in failures}
    assert ("unique", "dim_project (project_key) = (2564-P) appears 2 times") in found
    assert ("accepted_values", "dim_project.source_layout = fax is not one of progress_form, web_progress, "
                               "proposal") in found
    assert ("relationships", "dim_project.district_id = 9999 has no dim_district row") in found
    assert ("relationships", "fact_monthly_progress.project_key = 2564-Z has no dim_project row") in found
    assert ("not_null", "fact_monthly_progress.month_imputed is NULL") in found
    orphan = next(f for f in failures if f.detail.startswith("fact_monthly_progress.project_key"))
    assert (orphan.project_key, orphan.source_file, orphan.severity) == ("2564-Z", "c.txt", "error")
