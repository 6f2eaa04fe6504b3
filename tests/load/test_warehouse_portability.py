"""Analysts anywhere: an older DuckDB opens warehouse.duckdb and reads every view from any working directory
with no setting; a session opened before runs keeps answering after them; a folder copied or moved elsewhere
still opens (through schoolnet query, and for any other client after the one documented statement)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from common.settings import PROJECT_ROOT, Settings
from flows.stages import run_once
from load.door import open_warehouse
from tests.conftest import REFERENCE, SAMPLE_RAW

# The oldest DuckDB the contract names, and the one an analyst met the 2.0 file with ("version number 999").
OLD_DUCKDBS = ("1.1.0", "1.4.5")
COMPAT_VENVS = PROJECT_ROOT / ".venv" / "compat"  # kept between runs: each is one pip install
READ_EVERY_VIEW = """
import duckdb, json, sys
con = duckdb.connect(sys.argv[1], read_only=True)  # no setting: as DBeaver or Metabase open it
if len(sys.argv) > 2:  # the one statement a client runs on a moved folder
    con.execute("SET VARIABLE schoolnet_warehouse = '" + sys.argv[2] + "'")
views = [r[0] for r in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal ORDER BY 1").fetchall()]
counts = {v: con.execute(f"SELECT count(*) FROM {v}").fetchall()[0][0] for v in views}
comments = con.execute("SELECT count(*) FROM duckdb_columns() WHERE comment IS NOT NULL").fetchall()[0][0]
print(json.dumps({"version": duckdb.__version__, "counts": counts, "comments": comments}))
"""


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("portable")
    run_once(Settings.from_env(raw_dir=SAMPLE_RAW, warehouse_dir=root / "wh", reference_dir=REFERENCE))
    return root / "wh"


def _counts(warehouse_dir: Path) -> dict[str, int]:
    con = open_warehouse(warehouse_dir)
    try:
        views = [r[0] for r in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()]
        return {v: con.execute(f"SELECT count(*) FROM {v}").fetchall()[0][0] for v in sorted(views)}
    finally:
        con.close()


def _old_duckdb(version: str) -> Path:
    python = COMPAT_VENVS / f"duckdb-{version}" / "bin" / "python"
    if not python.exists():
        venv.create(python.parent.parent, with_pip=True)
        out = subprocess.run([str(python), "-m", "pip", "install", "--quiet", f"duckdb=={version}"],
                             capture_output=True, text=True)
        if out.returncode != 0:
            shutil.rmtree(python.parent.parent, ignore_errors=True)
            pytest.fail(f"could not install duckdb {version} in a throw-away venv:\n{out.stderr[-2000:]}")
    return python


@pytest.mark.parametrize("version", OLD_DUCKDBS)
def test_an_older_duckdb_reads_every_view_from_anywhere_with_no_setting(warehouse, version, tmp_path):
    out = subprocess.run([str(_old_duckdb(version)), "-c", READ_EVERY_VIEW, str(warehouse / "warehouse.duckdb")],
                         capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout)
    assert result["version"] == version
    assert result["counts"] == _counts(warehouse) and result["counts"]["dim_project"] == 3
    assert result["comments"] > 100  # the data dictionary travels with the file


def test_a_moved_folder_still_opens(warehouse, tmp_path):
    origin = tmp_path / "origin"
    shutil.copytree(warehouse, origin, symlinks=True)
    run_once(Settings.from_env(raw_dir=SAMPLE_RAW, warehouse_dir=origin, reference_dir=REFERENCE))
    before = _counts(origin)
    moved = tmp_path / "laptop" / "warehouse copy, with a comma"
    shutil.move(origin, moved)  # the folder it was written in is gone
    followed = tmp_path / "share" / "followed"
    shutil.copytree(moved, followed)  # as a copy that follows symlinks makes it
    for folder in (moved, followed):
        assert _counts(folder) == before
        out = subprocess.run([sys.executable, "-m", "schoolnet.cli", "query", "SELECT count(*) AS n FROM dim_project",
                              "--warehouse-dir", str(folder), "--format", "csv"], capture_output=True, text=True,
                             cwd=tmp_path)
        assert out.returncode == 0 and out.stdout.split() == ["n", "3"], out.stderr
        # another client: one documented statement, SET VARIABLE schoolnet_warehouse = '<the folder>'
        other = subprocess.run([str(_old_duckdb(OLD_DUCKDBS[0])), "-c", READ_EVERY_VIEW,
                                str(folder / "warehouse.duckdb"), str(folder)], capture_output=True, text=True,
                               timeout=120, cwd=tmp_path)
        assert other.returncode == 0, other.stderr[-2000:]
        assert json.loads(other.stdout)["counts"] == before


def test_the_views_name_the_folder_by_its_absolute_path(warehouse):
    """GUI clients have no working directory to lean on: no view names a relative path."""
    con = open_warehouse(warehouse)
    try:
        sql = [r[0] for r in con.execute("SELECT sql FROM duckdb_views() WHERE NOT internal").fetchall()]
    finally:
        con.close()
    assert sql and all(f"'{warehouse.resolve().as_posix()}'" in s and "/current/" in s for s in sql)


def test_a_session_opened_before_runs_keeps_answering_after_them(tmp_path):
    """A notebook or a dashboard's pooled connection open across three nights reads the current version."""
    import duckdb

    wh = tmp_path / "wh"
    raw = tmp_path / "raw"
    shutil.copytree(SAMPLE_RAW, raw)
    settings = Settings.from_env(raw_dir=raw, warehouse_dir=wh, reference_dir=REFERENCE)
    run_once(settings)
    session = duckdb.connect(str(wh / "warehouse.duckdb"), read_only=True)
    assert session.execute("SELECT count(*) FROM dim_project").fetchall() == [(3,)]
    for night in range(3):
        if night == 1:
            (raw / "sample_progress_form_5011.txt").unlink()
        run_once(settings)
    fresh = duckdb.connect(str(wh / "warehouse.duckdb"), read_only=True)
    assert fresh.execute("SELECT count(*) FROM dim_project").fetchall() == [(2,)]
    assert session.execute("SELECT count(*) FROM dim_project").fetchall() == [(2,)]  # the current version's
    session.close()
    fresh.close()
