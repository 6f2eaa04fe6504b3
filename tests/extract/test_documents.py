"""Reports as districts publish them (issue 24): a PDF with a text layer, a clean scan and a degraded scan of a
generated form, printed by Chromium in a Thai font and read by the real tesseract, each against its truth; PDFs
that are encrypted, broken or 500 pages long, and a machine without tesseract, each quarantined with its reason;
the OCR cache, which a full refresh reads instead of tesseract."""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

import pytest

from common.settings import Settings
from extract.reference import load_reference
from flows.stages import run_once
from load.door import open_warehouse
from synth.scans import generate_scans, scans_path
from synth.truth_diff import truth_diff
from tests.conftest import REFERENCE

TESSERACT = shutil.which("tesseract")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SEED = 4  # its first document is a one-page progress form: two OCR passes of one page per scan
pytestmark = pytest.mark.skipif(
    not (TESSERACT and CHROMIUM),
    reason="NO OCR: apt-get install tesseract-ocr tesseract-ocr-tha chromium fonts-thai-tlwg poppler-utils "
           "(.ci/run does)")


def _settings(raw: Path, wh: Path, **overrides: object) -> Settings:
    return Settings.from_env(raw_dir=raw, warehouse_dir=wh, reference_dir=REFERENCE, **overrides)


@pytest.fixture(scope="module")
def corpora(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("documents")
    reference = load_reference(REFERENCE)
    out = {"text_layer": root / "text_layer", "clean": root / "clean", "degraded": root / "degraded"}
    generate_scans(out["text_layer"], 1, SEED, reference, text_layer=True)
    generate_scans(out["clean"], 1, SEED, reference, degraded=False)
    generate_scans(out["degraded"], 1, SEED, reference, degraded=True)
    return out


def _quarantined(wh: Path) -> dict[str, str]:
    con = open_warehouse(wh)
    try:
        return dict(con.execute("SELECT source_file, reason FROM ingest_ledger WHERE status = 'quarantined'")
                    .fetchall())
    finally:
        con.close()


@pytest.mark.parametrize("kind, at_least", [("text_layer", 1.0), ("clean", 0.98), ("degraded", 0.95)])
def test_a_generated_form_is_read_against_its_truth(corpora, tmp_path, kind, at_least):
    corpus = corpora[kind]
    described = json.loads(scans_path(corpus).read_text(encoding="utf-8"))
    summary = run_once(_settings(corpus, tmp_path / "wh"))
    assert summary.files["loaded"] == 1, summary.quarantined
    diff = truth_diff(corpus, tmp_path / "wh")
    fields = diff.fields
    assert fields.total > 20  # header fields and three reports of six fields
    assert fields.accuracy >= at_least, (described, fields.as_dict())
    # a field OCR could not settle is NULL with its finding: no value stated and false
    assert sum(fields.wrong.values()) == 0, fields.wrong_examples
    assert diff.person["precision"] == diff.person["recall"] == 1.0
    assert diff.school["precision"] == diff.school["recall"] == 1.0
    officers = {t.table: t for t in diff.tables}["dim_officer"]
    assert officers.recall == 1.0, officers.missing()


def test_the_ocr_cache_spares_tesseract_on_a_full_refresh(corpora, tmp_path):
    """A wrapper counts what tesseract is asked: after the first run, a full refresh reads every pass from the
    document store (only the version is asked, which the cache key holds)."""
    log = tmp_path / "calls.log"
    wrapper = tmp_path / "tesseract"
    wrapper.write_text(f"#!/bin/sh\necho \"$@\" >> {log}\nexec {TESSERACT} \"$@\"\n", encoding="utf-8")
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    raw, wh = tmp_path / "raw", tmp_path / "wh"
    shutil.copytree(corpora["clean"], raw)
    run_once(_settings(raw, wh, tesseract=str(wrapper)))
    readings = [c for c in log.read_text().splitlines() if c.startswith("stdin")]
    assert len(readings) == 2  # one page, two passes
    cached = list((wh / "_state" / "store" / "ocr").glob("*.json"))
    assert len(cached) == 1 and len(json.loads(cached[0].read_text(encoding="utf-8"))["passes"]) == 2
    log.write_text("")
    summary = run_once(_settings(raw, wh, tesseract=str(wrapper)), full_refresh=True)
    assert summary.files["loaded"] == 1
    assert not [c for c in log.read_text().splitlines() if c.startswith("stdin")]


def _pdf_of_pages(pages: int) -> bytes:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument.new()
    for _ in range(pages):
        pdf.new_page(595, 842)
    path = Path(os.environ.get("TMPDIR", "/tmp")) / f"pages-{os.getpid()}.pdf"
    pdf.save(str(path))
    pdf.close()
    data = path.read_bytes()
    path.unlink()
    return data


def test_pdfs_that_cannot_be_read_are_quarantined_with_their_reason(corpora, tmp_path):
    import pikepdf

    raw = tmp_path / "raw"
    raw.mkdir()
    text_pdf = next(corpora["text_layer"].glob("*.pdf"))
    with pikepdf.open(text_pdf) as pdf:
        pdf.save(raw / "encrypted.pdf", encryption=pikepdf.Encryption(user="district", owner="office"))
    data = text_pdf.read_bytes()
    (raw / "cut.pdf").write_bytes(data[: len(data) // 3])
    (raw / "long.pdf").write_bytes(_pdf_of_pages(500))
    (raw / "garbage.png").write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(2000))
    summary = run_once(_settings(raw, tmp_path / "wh"))
    assert summary.files["loaded"] == 0
    reasons = _quarantined(tmp_path / "wh")
    assert "encrypted PDF" in reasons["encrypted.pdf"]
    assert "not a readable PDF" in reasons["cut.pdf"] or "not" in reasons["cut.pdf"], reasons
    assert "PDF of 500 pages, over the limit of 50" in reasons["long.pdf"]
    assert "not a readable image" in reasons["garbage.png"]


def test_without_tesseract_scans_wait_with_one_reason_and_text_layers_load(corpora, tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    for kind in ("text_layer", "clean"):
        for f in corpora[kind].iterdir():
            shutil.copyfile(f, raw / f"{kind}_{f.name}")
    summary = run_once(_settings(raw, tmp_path / "wh", tesseract="no-such-tesseract"))
    assert summary.files["loaded"] == 1  # the text layer
    reasons = _quarantined(tmp_path / "wh")
    assert len(reasons) == 1
    (reason,) = reasons.values()
    assert "tesseract is not installed" in reason and "apt-get install tesseract-ocr tesseract-ocr-tha" in reason
    summary = run_once(_settings(raw, tmp_path / "wh"))  # installed: the next run reads the scan
    assert summary.files["loaded"] == 1 and summary.files["quarantined"] == 0, summary.files


@pytest.mark.parametrize("shape", [(1, 1), (1, 9), (4, 3), (61, 47), (600, 40)])  # 600 rows: strips
def test_the_median_filter_is_pils_pixel_for_pixel(shape):
    import numpy as np
    from PIL import Image, ImageFilter

    from extract.documents import median3

    rng = np.random.default_rng(sum(shape))
    grey = rng.integers(0, 256, shape, dtype=np.uint8)
    expected = np.asarray(Image.fromarray(grey).filter(ImageFilter.MedianFilter(3)))
    assert np.array_equal(median3(grey), expected)
