"""The synthetic corpus: deterministic, all layouts and phenomena, truth beside it; and the pipeline's
quality against that truth on a corpus small enough for CI (make bench measures the large ones)."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys

import pytest

from common.settings import Settings
from extract.reference import load_reference
from flows.stages import run_once
from synth.corpus import generate, truth_path
from synth.evaluate import evaluate, pairwise_scores
from tests.conftest import REFERENCE


def digest(folder) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.iterdir()):
        h.update(p.name.encode() + p.read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    out = tmp_path_factory.mktemp("gen") / "corpus"
    generate(out, 300, 7, load_reference(REFERENCE))
    return out


def test_same_seed_same_corpus_other_seed_other_corpus(corpus, tmp_path):
    again, other = tmp_path / "again", tmp_path / "other"
    subprocess.run([sys.executable, "-m", "schoolnet.cli", "generate", "--out", str(again), "--docs", "300",
                    "--seed", "7"], check=True, capture_output=True)
    generate(other, 300, 8, load_reference(REFERENCE))
    assert digest(again) == digest(corpus) != digest(other)
    assert truth_path(again).read_bytes() == truth_path(corpus).read_bytes()
    assert truth_path(corpus).parent == corpus.parent  # beside the folder, not in it
    assert not list(corpus.glob("*.jsonl"))


def test_layouts_sizes_and_phenomena(corpus):
    texts = {p.name: p.read_text(encoding="utf-8") for p in corpus.iterdir()}
    layouts = {name.split("_", 1)[1].removesuffix(".txt") for name in texts}
    assert layouts == {"progress_form", "web_progress", "proposal"}
    sizes = [len(t.encode("utf-8")) / 1024 for t in texts.values()]
    assert min(sizes) >= 4.5 and max(sizes) <= 90 and sum(sizes) / len(sizes) >= 20
    joined = "\n".join(texts.values())
    for phenomenon in ("แบบแสดงรายงานความก้าวหน้า", "<p>", "\t", "แต่ควรถ", "น.ส.", "๒๕๖", "FusionCharts",
                       "ความก้าวหน้าของงานฯ = 100.00 :"):
        assert phenomenon in joined, phenomenon
    assert re.search(r"รายงานครั้งที่ ?\d+ :: (?!\d)", joined)  # a report without a date


def test_pipeline_quality_against_the_truth(corpus, tmp_path):
    settings = Settings.from_env(raw_dir=corpus, warehouse_dir=tmp_path / "wh", reference_dir=REFERENCE)
    run_once(settings)
    quality = evaluate(truth_path(corpus), settings.warehouse_dir)
    assert quality.field_accuracy >= 0.995, quality.examples[:10]
    assert quality.person["precision"] == 1.0 and quality.person["recall"] >= 0.99
    assert quality.school["precision"] == 1.0 and quality.school["recall"] >= 0.99


def test_pairwise_scores():
    assert pairwise_scores([("a", 1), ("a", 1), ("b", 2)]) == {
        "precision": 1.0, "recall": 1.0, "f1": 1.0, "items": 3, "true_pairs": 1, "predicted_pairs": 1}
    merged = pairwise_scores([("a", 1), ("a", 1), ("b", 1)])
    assert merged["precision"] == pytest.approx(1 / 3, abs=1e-4) and merged["recall"] == 1.0
    split = pairwise_scores([("a", 1), ("a", 2)])
    assert split["precision"] == 1.0 and split["recall"] == 0.0


def test_bench_plot(tmp_path):
    pytest.importorskip("matplotlib")  # installed by `make bench` (the bench extra), not by `make test`
    from synth.bench import plot_results

    runs = [{"docs": d, "docs_per_s": s, "peak_rss_mb": m, "stage_seconds": {"rss_after_extract_parse_mb": m / 2}}
            for d, s, m in ((1000, 250.0, 220.0), (5000, 400.0, 260.0), (20000, 480.0, 275.0))]
    path = plot_results(runs, tmp_path / "bench.png")
    assert path is not None and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
