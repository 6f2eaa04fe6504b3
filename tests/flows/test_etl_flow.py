"""The Prefect flow on the real seeds (one shared test harness for the whole session)."""

import shutil
from pathlib import Path

import pytest

from load.door import open_warehouse
from tests.conftest import REFERENCE, SAMPLE_RAW, SEEDS


def _raw_copy(tmp_path):
    """The real seeds (or the shipped sample without them) in a raw folder of the test's own."""
    raw = tmp_path / "raw"
    raw.mkdir()
    for p in (SEEDS if SEEDS.is_dir() else SAMPLE_RAW).glob("*.txt"):
        shutil.copy(p, raw / p.name)
    return raw


@pytest.mark.flow
def test_flow_builds_the_warehouse(prefect_server, tmp_path, monkeypatch):
    from flows.etl import etl_flow

    raw = _raw_copy(tmp_path)
    summary = etl_flow(raw_dir=str(raw), warehouse_dir=str(tmp_path / "wh"), fiscal_year=None)
    assert summary.files["loaded"] >= 3
    con = open_warehouse(tmp_path / "wh")
    assert con.execute("SELECT count(*) FROM dim_project").fetchone()[0] == summary.rows["dim_project"]
    con.close()
    again = etl_flow(raw_dir=str(raw), warehouse_dir=str(tmp_path / "wh"), fiscal_year=2021)
    assert again.files["unchanged"] == summary.files["loaded"] and again.fiscal_year == 2564


@pytest.mark.flow
def test_flow_runs_its_tasks_on_a_local_two_worker_dask_cluster(prefect_server, tmp_path, monkeypatch):
    from flows.etl import run_on_dask

    raw = _raw_copy(tmp_path)
    source = SEEDS if SEEDS.is_dir() else SAMPLE_RAW
    scans = 0
    if shutil.which("tesseract") and shutil.which("chromium"):  # a scanned form, OCR'd on a Dask worker
        from extract.reference import load_reference
        from synth.scans import generate_scans

        generate_scans(tmp_path / "scan", 1, 4, load_reference(REFERENCE), degraded=False)
        for f in (tmp_path / "scan").iterdir():
            shutil.copyfile(f, raw / f.name)
            scans += 1
    monkeypatch.setenv("SCHOOLNET_BATCH_SIZE", "1")  # one task per file, spread over both workers
    summary = run_on_dask(cluster_kwargs={"n_workers": 2, "threads_per_worker": 1, "processes": True},
                          raw_dir=str(raw), warehouse_dir=str(tmp_path / "wh"))
    assert summary.files["loaded"] == len(list(source.glob("*.txt"))) + scans - summary.files["quarantined"]
    con = open_warehouse(tmp_path / "wh")
    assert con.execute("SELECT count(*) FROM fact_monthly_progress").fetchone()[0] == \
        summary.rows["fact_monthly_progress"] > 0
    if scans:
        assert con.execute("SELECT count(*) FROM dim_project WHERE source_file LIKE '000000_progress_form.%'"
                           ).fetchone()[0] == 1
    con.close()


@pytest.mark.flow
def test_flow_publishes_the_run_summary_as_artifacts(prefect_server, tmp_path):
    import asyncio

    from prefect.client.orchestration import get_client

    from flows.etl import etl_flow

    summary = etl_flow(raw_dir=str(SAMPLE_RAW), warehouse_dir=str(tmp_path / "wh"))

    async def artifacts():
        async with get_client() as client:
            return await client.read_artifacts()

    every = asyncio.run(artifacts())
    found = {a.key: a for a in every if a.key and a.key.startswith("schoolnet")}
    assert {"schoolnet-run-summary", "schoolnet-files", "schoolnet-rows", "schoolnet-report"} <= set(found)
    markdown = next(a for a in every if a.key == "schoolnet-run-summary" and summary.run_id in (a.data or ""))
    assert "Quarantined" in markdown.data and r"sample\_not\_a\_report.txt" in markdown.data  # Markdown-escaped
    link = next(a for a in every if a.key == "schoolnet-report" and a.flow_run_id == markdown.flow_run_id)
    assert Path(summary.report).exists() and Path(summary.report).as_uri() in link.data


@pytest.mark.flow
def test_the_nightly_flow_pulls_then_loads_and_a_down_source_still_leaves_a_warehouse(prefect_server, tmp_path,
                                                                                     monkeypatch):
    from flows.etl import etl_flow
    from tests.extract.servers import http_server

    served = _raw_copy(tmp_path)
    raw, wh = tmp_path / "landed", tmp_path / "wh"
    with http_server(served) as url:
        monkeypatch.setenv("SCHOOLNET_SOURCES", url)
        state = etl_flow(raw_dir=str(raw), warehouse_dir=str(wh), pull=True, return_state=True)
    assert state.is_completed(), state.message
    summary = state.result()
    assert summary.files["loaded"] + summary.files["quarantined"] == len(list(served.glob("*.txt")))
    monkeypatch.setenv("SCHOOLNET_SOURCES", "http://127.0.0.1:9/")  # down
    state = etl_flow(raw_dir=str(raw), warehouse_dir=str(wh), pull=True, return_state=True)
    assert state.is_failed() and "the ETL ran on what had landed" in state.message
    con = open_warehouse(wh)
    statuses = con.execute("SELECT status, count(*) FROM pull_ledger GROUP BY 1 ORDER BY 1").fetchall()
    con.close()
    assert statuses == [("failed", 1), ("fetched", len(list(served.glob("*.txt"))))]
