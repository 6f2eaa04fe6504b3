"""Ids survive later runs that add documents; analyst overrides change the next run's output."""

from __future__ import annotations

import shutil

import pytest

from common.settings import Settings
from flows.stages import run_once
from load.door import open_warehouse
from tests.conftest import REFERENCE, SEEDS

SEED_001 = "001_d000cb5bc4147d98.txt"


def _variant(text: str, code: str, spelling: str) -> str:
    """Seed 001 as another project whose every rendering spells the coordinator `spelling`."""
    for wrong in ("วรวิทย์", "วรวิฒิ", "วรวิฑูรย์"):
        text = text.replace(f"นาย{wrong} เทียงธรรม", f"นาย{spelling} เทียงธรรม")
    return text.replace("50210000-3491", code)


@pytest.fixture()
def setup(tmp_path):
    if not SEEDS.is_dir():
        pytest.skip(f"real seed dumps not found at {SEEDS}")
    raw, ref, wh = tmp_path / "raw", tmp_path / "ref", tmp_path / "wh"
    raw.mkdir()
    shutil.copytree(REFERENCE, ref)
    shutil.copy(SEEDS / SEED_001, raw / SEED_001)
    return Settings.from_env(raw_dir=raw, warehouse_dir=wh, reference_dir=ref)


def coordinators(settings):
    con = open_warehouse(settings.warehouse_dir)
    try:
        return con.execute("SELECT coordinator_id, name_th FROM dim_coordinator ORDER BY 1").fetchall()
    finally:
        con.close()


def test_ids_survive_documents_that_change_the_majority_spelling(setup):
    run_once(setup)
    [(first_id, first_name)] = coordinators(setup)
    assert first_name == "วรวิทย์ เทียงธรรม"
    text = (SEEDS / SEED_001).read_text(encoding="utf-8")
    for n in (1, 2):
        (setup.raw_dir / f"later_{n}.txt").write_text(_variant(text, f"50210000-900{n}", "วรวิฒิ"))
    for p in SEEDS.glob("*.txt"):
        shutil.copy(p, setup.raw_dir / p.name)
    run_once(setup)
    rows = dict(coordinators(setup))
    assert rows[first_id] == "วรวิฒิ เทียงธรรม"  # the majority moved, the id did not
    assert len([n for n in rows.values() if "เทียงธรรม" in n]) == 1


def test_rename_override_changes_the_next_run(setup):
    run_once(setup)
    [(cid, _)] = coordinators(setup)
    with (setup.reference_dir / "overrides.csv").open("a", encoding="utf-8") as fh:
        fh.write(f"rename,coordinator,{cid},วรวิทย์ เที่ยงธรรม\n")
    run_once(setup)
    assert coordinators(setup) == [(cid, "วรวิทย์ เที่ยงธรรม")]


def test_forbid_override_splits_and_pin_joins(setup):
    text = (SEEDS / SEED_001).read_text(encoding="utf-8")
    (setup.raw_dir / "other.txt").write_text(_variant(text, "50210000-9001", "วรวิฒิ"))
    run_once(setup)
    assert len(coordinators(setup)) == 1
    with (setup.reference_dir / "overrides.csv").open("a", encoding="utf-8") as fh:
        fh.write("forbid,coordinator,วรวิฒิ เทียงธรรม,วรวิทย์ เทียงธรรม\n")
    run_once(setup)
    split = coordinators(setup)
    assert len(split) == 2
    keep = next(cid for cid, name in split if name == "วรวิทย์ เทียงธรรม")
    lines = (setup.reference_dir / "overrides.csv").read_text(encoding="utf-8").splitlines()
    lines = [ln for ln in lines if not ln.startswith("forbid")] + [f"pin,coordinator,วรวิฒิ เทียงธรรม,{keep}"]
    (setup.reference_dir / "overrides.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    run_once(setup)
    assert [cid for cid, _ in coordinators(setup)] == [keep]


def test_similar_people_with_other_phones_are_listed_for_review(setup):
    text = (SEEDS / SEED_001).read_text(encoding="utf-8").replace("โทร 1512", "โทร 1577")
    (setup.raw_dir / "namesake.txt").write_text(_variant(text, "50210000-9001", "วรวิชญ์"))
    run_once(setup)
    assert len(coordinators(setup)) == 2
    con = open_warehouse(setup.warehouse_dir)
    reviews = con.execute("SELECT decision, evidence FROM entity_review WHERE entity_type = 'coordinator'").fetchall()
    con.close()
    assert reviews and all(d == "kept_apart" and "different phones" in e for d, e in reviews)


def test_malformed_override_fails_loudly(setup):
    from extract.reference import ReferenceError, load_overrides

    (setup.reference_dir / "overrides.csv").write_text("action,entity_type,subject,target\nmerge,x,a,b\n")
    with pytest.raises(ReferenceError, match="not a valid override"):
        load_overrides(setup.reference_dir)
