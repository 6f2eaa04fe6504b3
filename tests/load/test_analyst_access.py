"""Every tool of the ecosystem reads the warehouse, the way an analyst meets it: pandas, pyarrow, polars and DuckDB
read every table folder whole after a full build and after nightly runs; Python's door, BI tools through
SQLAlchemy, an analyst's own database that attaches the warehouse read-only; and nothing an analyst does in the
file is lost silently."""

from __future__ import annotations

import re
import shutil
import stat
import subprocess
import sys

import duckdb
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from common.settings import Settings
from extract.reference import load_reference
from flows.stages import run_once
from load.layout import DUCKDB_FILE
from load.tables import PARTITION_COLUMN, SCHEMAS, STAGED_TABLES, file_schema
from synth.corpus import generate
from tests.conftest import REFERENCE, SAMPLE_RAW


@pytest.fixture(scope="module")
def nights(tmp_path_factory):
    """A warehouse built whole from 160 synthetic documents, then through two nightly runs (additions, edits and
    a deletion): the state analysts read it in."""
    root = tmp_path_factory.mktemp("access")
    reference = load_reference(REFERENCE)
    generate(root / "a", 160, 3, reference)
    generate(root / "b", 30, 4, reference)
    raw = root / "raw"
    raw.mkdir()
    names = sorted(p.name for p in (root / "a").iterdir())
    for name in names[:120]:
        shutil.copy(root / "a" / name, raw / name)
    settings = Settings.from_env(raw_dir=raw, warehouse_dir=root / "wh", reference_dir=REFERENCE, workers=1)
    run_once(settings)
    full = _views(settings.warehouse_dir)
    for name in names[120:]:
        shutil.copy(root / "a" / name, raw / name)
    for name, other in zip(names[:5], sorted((root / "b").iterdir()), strict=False):
        shutil.copy(other, raw / name)
    run_once(settings)
    (raw / names[7]).unlink()
    run_once(settings)
    return settings, full


def _views(warehouse) -> dict[str, pa.Table]:
    con = duckdb.connect(str(warehouse / DUCKDB_FILE), read_only=True)
    try:
        names = [r[0] for r in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()]
        return {n: con.sql(f"FROM {n}").to_arrow_table() for n in names}
    finally:
        con.close()


def _value(v: object) -> str:
    """A value as text, pandas' representations undone (an int column with NULLs is float there, NULL NaN)."""
    if isinstance(v, float):
        return "None" if v != v else str(int(v)) if v.is_integer() else str(v)
    return str(v)


def _sorted(table: pa.Table, columns: list[str]) -> list[tuple]:
    rows = [tuple(_value(r[c]) for c in columns) for r in table.select(columns).to_pylist()]
    return sorted(rows)


def test_every_reader_reads_every_table_whole(nights):
    settings, _ = nights
    wh = settings.warehouse_dir
    for name, view in _views(wh).items():
        folder = wh / name
        data = [f.name for f in file_schema(name)]  # the columns in the files
        yearly = name in STAGED_TABLES
        readers = {
            "pandas": pa.Table.from_pandas(pd.read_parquet(folder), preserve_index=False),
            "pyarrow.parquet.read_table": pq.read_table(folder),
            "pyarrow.dataset hive": ds.dataset(folder, partitioning="hive").to_table(),
            "pyarrow.dataset": ds.dataset(folder).to_table(),
            "polars": pl.scan_parquet(f"{folder}/**/*.parquet", hive_partitioning=True).collect().to_arrow(),
            "duckdb": duckdb.sql(f"FROM read_parquet('{folder}/**/*.parquet', hive_partitioning = true)")
            .to_arrow_table(),
        }
        for reader, table in readers.items():
            assert table.num_rows == view.num_rows, (name, reader)
            assert _sorted(table, data) == _sorted(view, data), (name, reader)  # every value of every column
            if yearly and reader != "pyarrow.dataset":  # the year is in the folder names; every hive reader has it
                got = sorted(int(v) for v in table.column(PARTITION_COLUMN).to_pylist())
                assert got == sorted(view.column(PARTITION_COLUMN).to_pylist()), (name, reader)
        # the declared types, exactly, where the reader keeps Arrow's (pyarrow with hive partitioning)
        assert _types(readers["pyarrow.dataset hive"].select(view.column_names).schema) == _types(view.schema), name
        assert _types(view.schema) == _types(SCHEMAS[name]), name


def _types(schema: pa.Schema) -> list[tuple[str, str]]:
    """Names and types; a UTC timestamp is one whatever the zone's name (DuckDB says Etc/UTC), a list one
    whatever its item's field is named."""
    return [(f.name, re.sub(r"list<\w+:", "list<item:", str(f.type).replace("Etc/UTC", "UTC"))) for f in schema]


def test_one_nullable_schema_per_table_across_all_its_files(nights):
    settings, _ = nights
    for name in SCHEMAS:
        files = sorted((settings.warehouse_dir / name).rglob("*.parquet"))
        if not files:
            continue
        want = file_schema(name) if any(PARTITION_COLUMN + "=" in str(f) for f in files) else SCHEMAS[name]
        for path in files:
            got = pq.read_schema(path).remove_metadata()
            assert got.equals(want), (path, got)
            assert all(field.nullable for field in got), path
    audit = settings.warehouse_dir / "audit_value_vote"
    assert sorted(p.name for p in audit.iterdir()) and all(p.name.startswith("fiscal_year=") for p in audit.iterdir())


def test_published_files_are_read_only(nights):
    settings, _ = nights
    wh = settings.warehouse_dir
    for path in [*(wh / "current").rglob("*.parquet"), wh / DUCKDB_FILE]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o444, path


def test_schoolnet_connect_and_read_table_from_anywhere(nights, tmp_path):
    settings, _ = nights
    script = ("import schoolnet, sys\n"
              "con = schoolnet.connect(sys.argv[1])\n"
              "n = con.sql('SELECT count(*) FROM dim_project').fetchall()[0][0]\n"
              "df = schoolnet.read_table('fact_disbursement', sys.argv[1])\n"
              "try:\n    con.execute('CREATE TABLE x AS SELECT 1')\n"
              "except PermissionError:\n    print('refused')\n"
              "print(n, len(df), type(df['cumulative_disbursed_thb'].iloc[0]).__name__, df['fiscal_year'].dtype)\n")
    out = subprocess.run([sys.executable, "-c", script, str(settings.warehouse_dir)], capture_output=True, text=True,
                         cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    refused, counts = out.stdout.splitlines()
    n, rows, money, year = counts.split()
    assert refused == "refused" and int(n) > 100 and int(rows) > 100 and money == "Decimal" and year == "int32"


def test_bi_tools_connect_through_sqlalchemy(nights):
    """duckdb-engine, as Superset and other BI tools use it: connect, list tables, inspect columns, query."""
    sqlalchemy = pytest.importorskip("sqlalchemy")
    settings, _ = nights
    engine = sqlalchemy.create_engine(f"duckdb:///{settings.warehouse_dir / DUCKDB_FILE}?access_mode=read_only")
    inspector = sqlalchemy.inspect(engine)
    assert {"dim_project", "fact_disbursement", "mart_network_year"} <= set(inspector.get_view_names())
    columns = {c["name"]: c["type"] for c in inspector.get_columns("fact_disbursement")}
    assert str(columns["cumulative_disbursed_thb"]).startswith("NUMERIC(18, 2)") and "fiscal_year" in columns
    with engine.connect() as con:
        assert con.execute(sqlalchemy.text("SELECT count(*) FROM dim_project")).scalar() > 100
    engine.dispose()


def test_an_analysts_own_database_attaches_the_warehouse_and_keeps_its_tables(nights, tmp_path):
    settings, _ = nights
    mine = tmp_path / "mine.duckdb"
    con = duckdb.connect(str(mine))
    con.execute(f"ATTACH '{settings.warehouse_dir / DUCKDB_FILE}' AS wh (READ_ONLY)")
    con.execute("CREATE TABLE my_notes AS SELECT project_key, 'check' AS note FROM wh.dim_project LIMIT 3")
    with pytest.raises(duckdb.Error, match="read-only"):
        con.execute("CREATE TABLE wh.x AS SELECT 1")
    con.close()
    run_once(settings)
    con = duckdb.connect(str(mine))
    con.execute(f"ATTACH '{settings.warehouse_dir / DUCKDB_FILE}' AS wh (READ_ONLY)")
    assert con.execute("SELECT count(*) FROM my_notes JOIN wh.dim_project USING (project_key)").fetchall() == [(3,)]
    con.close()


def test_a_table_created_in_the_warehouse_file_is_kept_aside_not_lost(tmp_path):
    raw, wh = tmp_path / "raw", tmp_path / "wh"
    shutil.copytree(SAMPLE_RAW, raw)
    settings = Settings.from_env(raw_dir=raw, warehouse_dir=wh, reference_dir=REFERENCE)
    run_once(settings)
    path = wh / DUCKDB_FILE
    path.chmod(0o644)  # as someone who owns the file and opens it read-write
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE my_notes AS SELECT 42 AS answer")
    con.close()
    run_once(settings)
    [kept] = wh.glob(f"{DUCKDB_FILE}.changed-*")
    assert duckdb.connect(str(kept), read_only=True).execute("FROM my_notes").fetchall() == [(42,)]
    con = duckdb.connect(str(path), read_only=True)
    finding = con.execute("SELECT detail FROM dq_issue WHERE check_name = 'warehouse_file_changed'").fetchall()
    con.close()
    assert len(finding) == 1 and kept.name in finding[0][0]
    run_once(settings)  # the next night: nothing changed since, no new finding
    con = duckdb.connect(str(path), read_only=True)
    assert con.execute("SELECT count(*) FROM dq_issue WHERE check_name = 'warehouse_file_changed'").fetchall() == [(0,)]
    con.close()


@pytest.mark.parametrize("tamper", ["added", "replaced"])
def test_a_file_changed_in_the_published_version_is_a_finding_and_not_carried_on(tmp_path, tamper):
    """What `COPY ... TO '<wh>/current/dim_project/zz.parquet'` did before the door refused it, done by hand (as
    the files' owner, who can lift 0444): the next run, with no raw file changed, reports it and does not carry it
    into the new version."""
    raw, wh = tmp_path / "raw", tmp_path / "wh"
    shutil.copytree(SAMPLE_RAW, raw)
    settings = Settings.from_env(raw_dir=raw, warehouse_dir=wh, reference_dir=REFERENCE)
    run_once(settings)
    before = pq.read_table(wh / "current" / "dim_district").num_rows
    con = duckdb.connect()
    if tamper == "added":
        target = wh / "current" / "dim_project" / "zz.parquet"
        con.execute(f"COPY (SELECT 'pwned' AS project_key, 'x' AS extra) TO '{target}'")
    else:
        [target] = (wh / "current" / "dim_district").glob("*.parquet")
        target.chmod(0o644)
        con.execute(f"COPY (SELECT 'pwned' AS name_th) TO '{target}'")
    con.close()
    first = run_once(settings)
    assert first.findings["published_file_changed"] == 1
    views = duckdb.connect(str(wh / DUCKDB_FILE), read_only=True)
    try:
        [(detail,)] = views.execute("SELECT detail FROM dq_issue WHERE check_name = 'published_file_changed'"
                                    ).fetchall()
        assert target.name in detail and ("added" if tamper == "added" else "changed") in detail
        assert views.execute("SELECT count(*) FROM dim_project WHERE project_key = 'pwned'").fetchall() == [(0,)]
        assert "extra" not in {r[0] for r in views.execute("DESCRIBE dim_project").fetchall()}
        assert views.execute("SELECT count(*) FROM dim_district").fetchall() == [(before,)]
    finally:
        views.close()
    assert not list((wh / "current").rglob("zz.parquet"))
    second = run_once(settings)  # the next night: the version is as its run wrote it
    assert second.findings["published_file_changed"] == 0
