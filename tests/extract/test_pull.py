"""schoolnet pull against real servers on 127.0.0.1: an HTTP folder listing (the standard library's server,
with injected faults) and a real S3 API (moto's server). Incremental, nothing half-landed, nothing lost."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from common.settings import Settings
from extract.pull import unsafe_name
from flows.pull import sources_of
from flows.stages import new_run_id, pull, run_once
from load.analyst import run_query
from tests.conftest import REFERENCE, SEEDS
from tests.extract.servers import FaultyFiles, http_server, s3_server

SEED_003 = "003_4388095a2d907049.txt"


def _seeds(folder: Path) -> Path:
    if not SEEDS.is_dir():
        pytest.skip(f"real seed dumps not found at {SEEDS}")
    shutil.copytree(SEEDS, folder)
    return folder


def _settings(tmp_path: Path, **kw) -> Settings:
    return Settings.from_env(raw_dir=tmp_path / "raw", warehouse_dir=tmp_path / "wh", reference_dir=REFERENCE,
                             pull_timeout_s=2, **kw)


def _pull(settings: Settings, *urls: str, endpoint: str | None = None):  # a PullSummary
    return pull(settings, sources_of(settings, list(urls), endpoint), new_run_id())


def _cli_pull(tmp_path: Path, url: str, env: dict | None = None, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "schoolnet.cli", "pull", "--source", url, "--raw-dir",
                           str(tmp_path / "raw"), "--warehouse-dir", str(tmp_path / "wh")],
                          capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=120, **kw)


def _tables(warehouse: Path, prefix: str = "") -> dict[str, list]:
    """Every table's rows, with the landing folder taken out of file names (a pulled file is named
    <source name>/<file>)."""
    names = [r[0] for r in run_query(warehouse, "SELECT view_name FROM duckdb_views() WHERE NOT internal")[1]]
    out = {}
    for name in names:
        if name in ("ingest_ledger", "pull_ledger", "entity_registry"):
            continue  # run ids and times
        columns, rows = run_query(warehouse, f"SELECT * FROM {name}")
        out[name] = sorted(json.dumps(r, default=str, ensure_ascii=False).replace(prefix, "") for r in rows)
    return out


def _statuses(warehouse: Path) -> list[tuple]:
    return [tuple(r) for r in json.loads(json.dumps(sorted(
        (r[0], r[1]) for r in run_query(warehouse, "SELECT remote_path, status FROM pull_ledger "
                                                   "WHERE run_id = (SELECT max(run_id) FROM pull_ledger)")[1])))]


def test_pulled_over_http_the_warehouse_is_the_local_folders(tmp_path):
    """python -m http.server serving the real dumps; pull, run: the same warehouse as from the folder."""
    served = _seeds(tmp_path / "served")
    port_server = subprocess.Popen([sys.executable, "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory",
                                    str(served)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = port_server.stdout.readline()  # "Serving HTTP on 127.0.0.1 port N (...)"
        url = f"http://127.0.0.1:{line.split(' port ')[1].split()[0]}/"
        out = _cli_pull(tmp_path, url)
        assert out.returncode == 0, out.stderr
        again = _cli_pull(tmp_path, url)
        assert "fetched 0, unchanged 5" in again.stdout
    finally:
        port_server.terminate()
    settings = _settings(tmp_path)
    run_once(settings)
    local = Settings.from_env(raw_dir=served, warehouse_dir=tmp_path / "local", reference_dir=REFERENCE)
    run_once(local)
    name = next((tmp_path / "raw").iterdir()).name
    assert _tables(settings.warehouse_dir, f"{name}/") == _tables(local.warehouse_dir)
    ledger = run_query(settings.warehouse_dir, "SELECT status, count(*) FROM pull_ledger GROUP BY 1 ORDER BY 1")[1]
    assert ledger == [("fetched", 5), ("unchanged", 5)]


def test_incremental_changed_gone_and_subfolders(tmp_path):
    served = _seeds(tmp_path / "served")
    (served / "2565").mkdir()
    shutil.move(served / SEED_003, served / "2565" / SEED_003)
    settings = _settings(tmp_path)
    with http_server(served) as url:
        assert _pull(settings, url).counts[url]["fetched"] == 5
        landed = tmp_path / "raw" / f"127.0.0.1-{url.split(':')[2].strip('/')}"
        assert (landed / "2565" / SEED_003).is_file()  # a sub-folder followed
        FaultyFiles.requests.clear()
        assert _pull(settings, url).counts[url] == {"unchanged": 5}
        bodies = [p for (_, p, status) in FaultyFiles.requests if status == 200 and p.endswith(".txt")]
        assert bodies == [] and sum(n for (_, _, st), n in FaultyFiles.requests.items() if st == 304) == 5
        old = (served / "2565" / SEED_003).read_text(encoding="utf-8")
        (served / "2565" / SEED_003).write_text(old.replace("= 15.00 %", "= 17.00 %"), encoding="utf-8")
        (served / "000_98014ed7986e81fa.txt").unlink()
        counts = _pull(settings, url).counts[url]
        assert counts == {"fetched": 1, "unchanged": 3, "gone_at_source": 1}
    assert "= 17.00 %" in (landed / "2565" / SEED_003).read_text(encoding="utf-8")
    assert (landed / "000_98014ed7986e81fa.txt").is_file()  # gone at the source, still landed
    archived = {p.read_text(encoding="utf-8") for p in (settings.warehouse_dir / "_state" / "pulled").rglob("*")
                if p.is_file()}
    assert old in archived and len(archived) == 6  # every version fetched is kept, outside the raw dir
    run_once(settings)
    rows = run_query(settings.warehouse_dir, "SELECT progress_pct FROM fact_monthly_progress "
                                             "WHERE project_key = '2563-50010000-3358' AND report_no = 3")[1]
    assert [float(r[0]) for r in rows] == [17.0]


def test_faults_retries_and_failures_leave_no_partial_file(tmp_path):
    """500 then success lands; a file that always fails, answers too slowly or is cut short fails alone,
    after its retries, while the others land; no partial file is left anywhere in the raw dir."""
    served = _seeds(tmp_path / "served")
    settings = _settings(tmp_path, pull_retries=3)
    with http_server(served) as url:
        FaultyFiles.faults["/000_98014ed7986e81fa.txt"] = ["500", "500"]  # then success
        FaultyFiles.faults["/001_d000cb5bc4147d98.txt"] = ["500"] * 3
        FaultyFiles.faults["/002_5c49e0dc0950e00c.txt"] = ["slow:3"] * 3
        FaultyFiles.faults["/003_4388095a2d907049.txt"] = ["truncate"] * 3
        summary = _pull(settings, url)
        assert summary.counts[url] == {"fetched": 2, "failed": 3}
        assert summary.failed and any("truncated" in f for f in summary.failures)
        assert any("timed out" in f for f in summary.failures) and any("HTTP 500" in f for f in summary.failures)
        landed = sorted(p.name for p in (tmp_path / "raw").rglob("*") if p.is_file())
        assert landed == ["000_98014ed7986e81fa.txt", "004_f9b80b41e945b38d.txt"]  # nothing partial or hidden
        assert list((settings.warehouse_dir / "_state" / "pull-tmp").iterdir()) == []
        assert _pull(settings, url).counts[url] == {"fetched": 3, "unchanged": 2}  # the faults are over


def test_hostile_names_are_refused_and_recorded(tmp_path):
    served = tmp_path / "served"
    (served / "dumps").mkdir(parents=True)
    (served / "dumps" / "good.txt").write_text("x", encoding="utf-8")
    (served / "secret.txt").write_text("not part of the source", encoding="utf-8")
    settings = _settings(tmp_path)
    with http_server(served) as root:
        url = root + "dumps/"
        FaultyFiles.extra_links = ["../../etc/passwd", "/secret.txt", "http://example.org/x.txt", "bad%00name.txt",
                                   "a" * 300 + ".txt", "sub/..%2F..%2Fescape.txt", ".hidden.txt"]
        FaultyFiles.listing_path = "/dumps/"
        summary = _pull(settings, url)
    assert summary.counts[url] == {"fetched": 1, "refused": 7}
    landed = [p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file() and "raw" in p.parts]
    assert [p.name for p in landed] == ["good.txt"]
    run_once(settings)
    refused = run_query(settings.warehouse_dir, "SELECT error FROM pull_ledger WHERE status = 'refused'")[1]
    assert len(refused) == 7 and all(r[0] for r in refused)


@pytest.mark.parametrize("name, why", [("../x.txt", "'..'"), ("/etc/passwd", "absolute"), ("a\x00b", "control"),
                                       ("C:/x", "absolute"), ("a/./b", "'.'"), ("x" * 201, "too long"),
                                       ("a\\b", "backslash"), ("ok/name.txt", None)])
def test_unsafe_names(name, why):
    assert (unsafe_name(name) is None) if why is None else why in unsafe_name(name)


def test_a_source_that_is_down_fails_with_a_clear_message(tmp_path):
    out = _cli_pull(tmp_path, "http://127.0.0.1:9/")  # nothing listens on port 9
    assert out.returncode == 1
    assert "cannot be listed" in out.stderr and "Traceback" not in out.stderr
    assert not list((tmp_path / "raw").rglob("*.txt"))


def test_a_download_killed_by_sigkill_leaves_no_partial_file(tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    (served / "big.txt").write_bytes(b"x" * 200_000)  # 400 pieces of 512 bytes, 50 ms apart: 20 s
    (served / "small.txt").write_bytes(b"y")
    with http_server(served) as url:
        FaultyFiles.faults["/big.txt"] = ["drip"]
        proc = subprocess.Popen([sys.executable, "-m", "schoolnet.cli", "pull", "--source", url, "--raw-dir",
                                 str(tmp_path / "raw"), "--warehouse-dir", str(tmp_path / "wh")],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        scratch = tmp_path / "wh" / "_state" / "pull-tmp"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any(p.stat().st_size > 20_000 for p in scratch.glob("*")
                                                      if p.is_file()):
            time.sleep(0.1)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        raw_files = [p for p in (tmp_path / "raw").rglob("*") if p.is_file()]
        assert not any(p.name.startswith("big") or p.name.startswith(".") for p in raw_files), raw_files
        out = _cli_pull(tmp_path, url)  # the next pull cleans up and completes
        assert out.returncode == 0, out.stderr
    big = next((tmp_path / "raw").rglob("big.txt"))
    assert big.stat().st_size == 200_000
    assert list(scratch.iterdir()) == []


def test_s3_pull_is_incremental_and_never_shows_credentials(tmp_path):
    import boto3

    if not SEEDS.is_dir():
        pytest.skip(f"real seed dumps not found at {SEEDS}")
    secret = "SECRET-never-printed-4242"
    env = {"AWS_ACCESS_KEY_ID": "testing-key", "AWS_SECRET_ACCESS_KEY": secret, "AWS_DEFAULT_REGION": "us-east-1"}
    with s3_server() as endpoint:
        s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="testing-key", aws_secret_access_key=secret,
                          region_name="us-east-1")
        s3.create_bucket(Bucket="scans")
        for p in sorted(SEEDS.glob("*.txt")):
            s3.put_object(Bucket="scans", Key=f"forms/2565/{p.name}", Body=p.read_bytes())
        s3.put_object(Bucket="scans", Key="forms/../escape.txt", Body=b"x")
        s3.put_object(Bucket="scans", Key="other/not-ours.txt", Body=b"x")
        first = _cli_pull(tmp_path, "s3://scans/forms/", env={**env, "SCHOOLNET_S3_ENDPOINT_URL": endpoint})
        assert first.returncode == 0, first.stderr
        assert "fetched 5" in first.stdout and "refused 1" in first.stdout
        second = _cli_pull(tmp_path, "s3://scans/forms/", env={**env, "SCHOOLNET_S3_ENDPOINT_URL": endpoint})
        assert "fetched 0, unchanged 5" in second.stdout
        body = (SEEDS / SEED_003).read_text(encoding="utf-8").replace("= 15.00 %", "= 17.00 %")
        s3.put_object(Bucket="scans", Key=f"forms/2565/{SEED_003}", Body=body.encode())
        third = _cli_pull(tmp_path, "s3://scans/forms/", env={**env, "SCHOOLNET_S3_ENDPOINT_URL": endpoint})
        assert "fetched 1, unchanged 4" in third.stdout
    for out in (first, second, third):
        assert secret not in out.stdout + out.stderr
    settings = _settings(tmp_path)
    run_once(settings)
    landed = [p.relative_to(tmp_path / "raw").as_posix() for p in (tmp_path / "raw").rglob("*.txt")]
    assert sorted(landed) == sorted(f"scans-forms/2565/{p.name}" for p in SEEDS.glob("*.txt"))
    local = tmp_path / "local"
    shutil.copytree(SEEDS, local)
    (local / SEED_003).write_text(body, encoding="utf-8")
    run_once(Settings.from_env(raw_dir=local, warehouse_dir=tmp_path / "local-wh", reference_dir=REFERENCE))
    assert _tables(settings.warehouse_dir, "scans-forms/2565/") == _tables(tmp_path / "local-wh")
    assert run_query(settings.warehouse_dir, "SELECT progress_pct FROM fact_monthly_progress WHERE project_key = "
                                             "'2563-50010000-3358' AND report_no = 3")[1][0][0] == 17
    ledger = run_query(settings.warehouse_dir, "SELECT * FROM pull_ledger")[1]
    assert not any(secret in str(row) for row in ledger)
