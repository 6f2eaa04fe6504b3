"""What a careless operator and a hostile file system do to a run: a typo that names someone's folder as the
warehouse, a warehouse inside the raw dir, a comma in a path, names that are not UTF-8 or that forge lines and
Markdown, a folder swapped for a symbolic link between the listing and the read. Nothing is destroyed, every
run goes on or stops with one line."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from common.settings import Settings
from extract.discover import SymlinkError, open_beneath, read_raw, scan_files
from flows.lock import NotAWarehouseError
from flows.stages import run_once
from flows.summary import RunSummary
from load.door import open_warehouse
from tests.conftest import REFERENCE, SAMPLE_RAW


def _settings(raw: Path, wh: Path) -> Settings:
    return Settings.from_env(raw_dir=raw, warehouse_dir=wh, reference_dir=REFERENCE)


def _tree(folder: Path) -> dict[str, bytes | None]:
    return {str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None) for p in sorted(folder.rglob("*"))}


@pytest.fixture()
def raw(tmp_path):
    folder = tmp_path / "raw"
    shutil.copytree(SAMPLE_RAW, folder)
    return folder


def test_a_folder_that_is_not_a_warehouse_is_never_cleaned_or_published_into(raw, tmp_path):
    """The issue's typo: `--warehouse-dir` naming a folder of someone's that happens to hold versions/ and report/."""
    theirs = tmp_path / "home" / "work"
    for name in ("versions/2024/thesis.docx", "report/index.html", "current/notes.txt", "_state/x", "photo.jpg"):
        (theirs / name).parent.mkdir(parents=True, exist_ok=True)
        (theirs / name).write_bytes(os.urandom(64))
    before = _tree(theirs)
    with pytest.raises(NotAWarehouseError, match="neither empty nor a schoolnet warehouse"):
        run_once(_settings(raw, theirs))
    out = subprocess.run([sys.executable, "-m", "schoolnet.cli", "run", "--raw-dir", str(raw), "--warehouse-dir",
                          str(theirs)], capture_output=True, text=True, env={**os.environ,
                                                                            "SCHOOLNET_REFERENCE_DIR": str(REFERENCE)})
    assert out.returncode == 2 and out.stderr.count("\n") == 1 and "neither empty nor" in out.stderr, out.stderr
    out = subprocess.run([sys.executable, "-m", "schoolnet.cli", "pull", "--source", "http://127.0.0.1:9/",
                          "--raw-dir", str(raw), "--warehouse-dir", str(theirs)], capture_output=True, text=True)
    assert out.returncode == 2 and "neither empty nor" in out.stderr, out.stderr
    assert _tree(theirs) == before
    empty = tmp_path / "empty"
    empty.mkdir()
    run_once(_settings(raw, empty))  # an empty folder becomes a warehouse, and stays one
    run_once(_settings(raw, empty))
    assert (empty / ".schoolnet-warehouse").is_file() and (empty / "current").is_symlink()


@pytest.mark.parametrize("where", ["inside the raw dir", "around the raw dir", "the raw dir itself"])
def test_a_warehouse_and_a_raw_dir_that_overlap_are_refused(raw, where):
    wh = {"inside the raw dir": raw / "wh", "around the raw dir": raw.parent,
          "the raw dir itself": raw}[where]
    before = _tree(raw)
    with pytest.raises(NotAWarehouseError, match="overlap"):
        run_once(_settings(raw, wh))
    assert _tree(raw) == before


def test_a_comma_in_the_warehouse_path_works(raw, tmp_path):
    wh = tmp_path / "warehouse, 2569 (copy)"
    summary = run_once(_settings(raw, wh))
    assert summary.rows["dim_project"] == 3
    out = subprocess.run([sys.executable, "-m", "schoolnet.cli", "query", "SELECT count(*) AS n FROM dim_project",
                          "--warehouse-dir", str(wh), "--format", "csv"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.split() == ["n", "3"], out.stdout + out.stderr


def test_names_that_are_not_utf8_are_quarantined_with_their_bytes_shown_and_the_run_goes_on(raw, tmp_path):
    thai_cp874 = "รายงาน.txt".encode("cp874")  # a Thai name as a Windows file share writes it
    for name in (b"bad-\xff\xfe-name.txt", thai_cp874):
        with open(os.path.join(os.fsencode(raw), name), "wb") as fh:
            fh.write((SAMPLE_RAW / "sample_progress_form_5011.txt").read_bytes())
    folder = os.path.join(os.fsencode(raw), b"sub-\xe0\xb8")  # a folder whose name is cut mid-character
    os.mkdir(folder)
    with open(os.path.join(folder, b"inside.txt"), "wb") as fh:
        fh.write(b"x")
    settings = _settings(raw, tmp_path / "wh")
    summary = run_once(settings)
    reasons = dict(summary.quarantined)
    shown = {"bad-\\xff\\xfe-name.txt", thai_cp874.decode("utf-8", "backslashreplace"), "sub-\\xe0\\xb8/inside.txt"}
    assert shown <= set(reasons) and all("not valid UTF-8" in reasons[n] for n in shown), reasons
    assert summary.rows["dim_project"] == 3  # the other files are loaded
    con = open_warehouse(settings.warehouse_dir)
    ledger = dict(con.sql("SELECT source_file, status FROM ingest_ledger").fetchall())
    con.close()
    assert {ledger[n] for n in shown} == {"quarantined"}
    again = run_once(settings)  # the next night: unchanged, nothing parsed again
    assert again.files["unchanged"] == 3 and again.files["quarantined"] == 4
    assert "\\xff" in again.as_text() and "\udcff" not in again.as_text()


def test_names_that_forge_lines_escape_the_terminal_or_break_markdown_are_shown_as_themselves(raw, tmp_path):
    for name in ("spoofed.txt\nFORGED LINE", "\x1b[2J\x1b[31mred.txt", "x`](javascript:alert(1))`.txt"):
        (raw / name).write_text("not a report", encoding="utf-8")
    summary = run_once(_settings(raw, tmp_path / "wh"))
    text = summary.as_text()
    assert not any(line.startswith("FORGED") for line in text.splitlines()) and "\x1b" not in text
    assert "spoofed.txt\\nFORGED LINE" in text and "\\x1b[2J" in text
    markdown = summary.as_markdown()
    assert "](javascript:" not in markdown and "\\`\\]\\(javascript:alert\\(1\\)\\)\\`" in markdown
    assert "\x1b" not in markdown and "\nFORGED" not in markdown


def test_a_summary_of_hostile_values_stays_one_line_each():
    summary = RunSummary("r", "/raw\n/x", "/wh\x1b[0m", None, quarantined=[("a|b", "why\r\nFORGED")])
    assert len(summary.as_text().splitlines()) == len(RunSummary("r", "/raw", "/wh", None, quarantined=[
        ("a", "b")]).as_text().splitlines())
    assert "a\\|b" in summary.as_markdown()


def test_a_folder_swapped_for_a_symbolic_link_after_the_listing_is_not_followed(tmp_path):
    raw, secret = tmp_path / "raw", tmp_path / "secret"
    (raw / "district").mkdir(parents=True)
    (raw / "district" / "report.txt").write_text("ok", encoding="utf-8")
    secret.mkdir()
    (secret / "report.txt").write_text("private", encoding="utf-8")
    listed = scan_files(raw)
    assert listed.source_file == ["district/report.txt"]
    shutil.rmtree(raw / "district")  # between the listing and the read
    (raw / "district").symlink_to(secret, target_is_directory=True)
    with pytest.raises(SymlinkError, match="symbolic link district"):
        read_raw(raw, "district/report.txt", 1 << 20)
    (raw / "district").unlink()
    (raw / "district").mkdir()
    (raw / "district" / "report.txt").symlink_to(secret / "report.txt")
    with pytest.raises(SymlinkError, match="symbolic link district/report.txt"):
        read_raw(raw, "district/report.txt", 1 << 20)
    os.mkfifo(raw / "district" / "fifo.txt")  # a reader would block forever on a FIFO
    with pytest.raises(OSError, match="not a regular file"):
        open_beneath(raw, "district/fifo.txt")
    for bad in ("../secret/report.txt", "/etc/passwd", "district/../../secret/report.txt"):
        with pytest.raises(OSError):
            open_beneath(raw, bad)


def test_a_run_quarantines_a_swapped_folder_and_reads_nothing_through_it(raw, tmp_path, monkeypatch):
    secret = tmp_path / "secret"
    secret.mkdir()
    shutil.copy(SAMPLE_RAW / "sample_progress_form_5011.txt", secret / "leak.txt")
    (raw / "sub").mkdir()
    shutil.copy(SAMPLE_RAW / "sample_progress_form_5011.txt", raw / "sub" / "leak.txt")
    import flows.stages as stages

    real_scan = stages.scan_files

    def scan_then_swap(folder):
        listing = real_scan(folder)
        shutil.rmtree(raw / "sub")
        (raw / "sub").symlink_to(secret, target_is_directory=True)
        return listing

    monkeypatch.setattr(stages, "scan_files", scan_then_swap)
    summary = run_once(_settings(raw, tmp_path / "wh"))
    assert "symbolic link sub" in dict(summary.quarantined)["sub/leak.txt"]
