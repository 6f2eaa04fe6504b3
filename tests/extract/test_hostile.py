"""Hostile input: no file can crash a run, corrupt the warehouse, get lost or be counted twice."""

from __future__ import annotations

import hashlib
import os
import shutil
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from common.settings import Settings
from extract.discover import decode_dump, read_raw
from flows.stages import run_once
from load.analyst import run_query
from load.layout import MARKER
from tests.conftest import REFERENCE, SAMPLE_RAW, SEEDS, seed_path
from transform.parse import parse

SEED_003 = "003_4388095a2d907049.txt"
SEED_001 = "001_d000cb5bc4147d98.txt"


def settings_for(raw: Path, wh: Path, **kw) -> Settings:
    return Settings.from_env(raw_dir=raw, warehouse_dir=wh, reference_dir=REFERENCE, **kw)


def q(s: Settings, sql: str) -> list[tuple]:
    return run_query(s.warehouse_dir, sql)[1]


def fingerprints(raw: Path) -> dict[str, tuple]:
    return {str(p.relative_to(raw)): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
            for p in sorted(raw.rglob("*")) if p.is_file() and not p.is_symlink()}


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "cp874", "tis-620"])
def test_encodings_decode_to_the_same_parse(titles, encoding):
    text = seed_path(SEED_003).read_text(encoding="utf-8")
    data = text.encode(encoding)
    decoded = decode_dump("x.txt", data)
    assert decoded.error is None
    assert parse(decoded.text, "x.txt", titles).reports == parse(text, "x.txt", titles).reports


@pytest.mark.parametrize("data, reason", [
    (b"", "empty"), (b"   \n\t\n", "empty"), (b"\x00\x01\x02\x03binary\x00" * 50, "binary"),
    (bytes([0xDB, 0xDC, 0xFC, 0xFD, 0xFE, 0xFF]) * 10, "not decodable"),
])
def test_undecodable_bytes_have_a_reason(data, reason):
    decoded = decode_dump("x", data)
    assert decoded.text is None and reason in decoded.error


def test_large_file_is_hashed_in_pieces_and_not_held(tmp_path):
    big = tmp_path / "big.txt"
    with big.open("wb") as fh:
        for _ in range(6):
            fh.write(b"x" * (1 << 20))
    raw, data = read_raw(tmp_path, "big.txt", max_bytes=2 << 20)
    assert data is None and raw.size_bytes == 6 << 20
    assert raw.content_sha256 == hashlib.sha256(big.read_bytes()).hexdigest()


def test_hostile_files_and_names_never_crash_lose_or_leak(tmp_path):
    if not SEEDS.is_dir():
        pytest.skip(f"real seed dumps not found at {SEEDS}")
    raw = tmp_path / "raw"
    (raw / "sub" / "dir").mkdir(parents=True)
    sample = sorted(SAMPLE_RAW.glob("sample_*_5011.txt"))
    text_003 = (SEEDS / SEED_003).read_text(encoding="utf-8")
    files = {
        "it's a 'quote'.txt": (SEEDS / SEED_003).read_bytes(),
        "x'; DROP TABLE dim_project; --.txt": sample[0].read_bytes(),
        "日本語 ファイル.txt": sample[1].read_bytes(),
        'ไฟล์ "dq".txt': sample[2].read_bytes(),
        "-leading-dash.txt": text_003[: len(text_003) // 3].encode("utf-8"),  # a truncated dump
        "sub/dir/nested.txt": (SEEDS / "000_98014ed7986e81fa.txt").read_bytes(),
        "empty.txt": b"",
        "garbage.bin": os.urandom(4096) + b"\x00",
        "unrelated.txt": b"Minutes of the parent-teacher meeting, nothing to see here.\n",
        "big.txt": b"x" * (2 << 20),
    }
    for name, data in files.items():
        (raw / name).write_bytes(data)
    (raw / "link.txt").symlink_to("/etc/passwd")
    before = fingerprints(raw)
    wh = tmp_path / "wh 'quoted' dir"
    s = settings_for(raw, wh, max_file_mb=1)
    summary = run_once(s)
    assert fingerprints(raw) == before  # raw files are never modified, moved or deleted
    ledger = dict(q(s, "SELECT source_file, status FROM ingest_ledger"))
    assert set(ledger) == set(files) | {"link.txt"}  # every file accounted for, names intact
    assert sum(summary.files.values()) == len(files) + 1
    reasons = dict(q(s, "SELECT source_file, reason FROM ingest_ledger WHERE status = 'quarantined'"))
    assert "empty" in reasons["empty.txt"] and "too large" in reasons["big.txt"]
    assert "symbolic link" in reasons["link.txt"] and "unrelated.txt" in reasons
    assert {"it's a 'quote'.txt", "x'; DROP TABLE dim_project; --.txt", "sub/dir/nested.txt"} <= \
        {r[0] for r in q(s, "SELECT source_file FROM dim_project")}
    assert q(s, "SELECT count(*) FROM dim_district")[0][0] == 50  # nothing was dropped by a file name
    assert not any(p.name.startswith(".") and p.name not in (".run.lock", MARKER) for p in wh.iterdir())


def test_the_same_report_in_several_files_counts_once_and_the_most_complete_wins(tmp_path):
    text = seed_path(SEED_001).read_text(encoding="utf-8")
    results = []
    for order, names in enumerate([("a_original.txt", "b_redownload.txt", "c_cp874.txt", "0_truncated.txt"),
                                   ("z_original.txt", "y_redownload.txt", "x_cp874.txt", "zz_truncated.txt")]):
        raw = tmp_path / f"raw{order}"
        raw.mkdir()
        (raw / names[0]).write_text(text, encoding="utf-8")
        (raw / names[1]).write_text(text, encoding="utf-8")
        (raw / names[2]).write_bytes(text.encode("cp874"))
        (raw / names[3]).write_text(text[: int(len(text) * 0.55)], encoding="utf-8")
        s = settings_for(raw, tmp_path / f"wh{order}")
        run_once(s)
        assert q(s, "SELECT count(*) FROM dim_project")[0][0] == 1
        winner = q(s, "SELECT source_file FROM dim_project")[0][0]
        assert winner == min(names[:3])  # complete copies tie; the first name wins, never the truncated one
        facts = q(s, "SELECT report_no, report_date, progress_pct, plan_status FROM fact_monthly_progress "
                     "ORDER BY report_no")
        assert len(facts) == 10 and q(s, "SELECT sum(disbursed_thb) FROM fact_disbursement")[0][0] == 180000
        dups = q(s, "SELECT count(*) FROM dq_issue WHERE check_name = 'duplicate_project_source'")[0][0]
        assert dups == 3
        results.append(facts)
    assert results[0] == results[1]  # whatever the names and their order


def test_implausible_values_are_kept_and_flagged(tmp_path):
    text = seed_path(SEED_003).read_text(encoding="utf-8")
    text = (text.replace("24/2/2563", "31/02/2563")  # impossible date
                .replace("(ครั้งที่ 8) = 0 บาท", "(ครั้งที่ 8) = 5,000 บาท")  # running total then goes down
                .replace("21/07/2563", "21/07/2564")  # outside fiscal year 2563
                .replace("งบประมาณที่ใช้ไป : 0 บาท", "งบประมาณที่ใช้ไป : 50,000 บาท")  # printed above the budget
                .replace("(ครั้งที่ 11) = 0 บาท", "(ครั้งที่ 11) = 40,000 บาท"))  # disbursed above the budget
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "odd.txt").write_text(text, encoding="utf-8")
    s = settings_for(raw, tmp_path / "wh")
    run_once(s)
    checks = Counter(r[0] for r in q(s, "SELECT check_name FROM dq_issue"))
    assert {"impossible_date", "running_total_never_decreases", "report_dates_within_fiscal_year",
            "printed_spent_mismatch", "spent_within_budget"} <= set(checks)
    # each fault once: the running total going down, and each of the two overspends, by one check each
    assert checks["running_total_never_decreases"] == 1 and checks["spent_within_budget"] == 1
    assert checks["printed_spent_mismatch"] == 1
    report5 = q(s, "SELECT report_date, month_imputed FROM fact_monthly_progress WHERE report_no = 5")
    assert report5 == [(None, True)]
    totals = q(s, "SELECT report_no, cumulative_disbursed_thb, disbursed_thb FROM fact_disbursement "
                  "WHERE report_no IN (8, 9) ORDER BY 1")
    assert totals == [(8, Decimal("5000.00"), Decimal("5000.00")), (9, Decimal("0.00"), Decimal("-5000.00"))]
    assert q(s, "SELECT reported_spent_thb FROM dim_project") == [(Decimal("50000.00"),)]


def test_raw_dir_with_a_sql_fragment_in_its_path(tmp_path):
    raw = tmp_path / "raw'); DROP VIEW dim_project; --"
    shutil.copytree(SAMPLE_RAW, raw)
    s = settings_for(raw, tmp_path / "wh")
    summary = run_once(s)
    assert summary.files["loaded"] == 3 and q(s, "SELECT count(*) FROM dim_project")[0][0] == 3


def test_warehouse_path_that_looks_like_a_partition(tmp_path):
    """'key=value' folders above the warehouse must not become columns of any table."""
    raw = tmp_path / "raw"
    shutil.copytree(SAMPLE_RAW, raw)
    s = settings_for(raw, tmp_path / "year=2564" / "wh")
    summary = run_once(s)
    assert summary.files["loaded"] == 3 and q(s, "SELECT count(*) FROM dim_project")[0][0] == 3
    assert "year" not in {c for (c,) in q(s, "SELECT column_name FROM information_schema.columns")}
