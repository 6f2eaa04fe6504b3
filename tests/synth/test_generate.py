"""The synthetic corpus: deterministic, all layouts and phenomena, truth beside it; and the pipeline's
quality against that truth on a corpus small enough for CI (make bench measures the large ones)."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from collections import Counter

import pytest

from common.settings import Settings
from extract.reference import load_reference
from flows.stages import run_once
from synth.corpus import generate, truth_path, world_path
from synth.facts import pairwise_scores, variants_merged
from synth.truth_diff import TableDiff, truth_diff
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
    assert world_path(again).read_bytes() == world_path(corpus).read_bytes()
    assert truth_path(corpus).parent == world_path(corpus).parent == corpus.parent  # beside the folder, not in it
    assert not list(corpus.glob("*.jsonl"))


def test_layouts_sizes_and_phenomena(corpus):
    texts = {p.name: p.read_text(encoding="utf-8") for p in corpus.iterdir()}
    layouts = {name.split("_", 1)[1].removesuffix(".txt") for name in texts}
    assert layouts == {"progress_form", "web_progress", "proposal"}
    crawls = {n for n, t in texts.items() if "web_progress" in n and "แผนการดำเนินงานฯ" not in t}
    assert 0.3 <= len(crawls) / sum("web_progress" in n for n in texts) <= 0.7  # half the pages as crawls keep them
    assert all(len(texts[n]) <= 1200 for n in crawls)  # a crawl's first ~1,000 characters
    sizes = [len(t.encode("utf-8")) / 1024 for n, t in texts.items() if n not in crawls]
    assert min(sizes) >= 4.5 and max(sizes) <= 90 and sum(sizes) / len(sizes) >= 20
    joined = "\n".join(texts.values())
    for phenomenon in ("แบบแสดงรายงานความก้าวหน้า", "<p>", "\t", "แต่ควรถ", "น.ส.", "๒๕๖", "FusionCharts",
                       "ความก้าวหน้าของงานฯ = 100.00 :",
                       # issue 20: departments, the split sara am, the evaluation, contact lines, budget codes
                       "09000000-", "สำนักการวางผังและพัฒนาเมือง", "ส\u0e4d\u0e32นัก", "ประเมินโครงการ : ไตรมาสที่",
                       " และนา", "หรือโทร.", "ต่อ ", "0600/",
                       # issue 21: what the narratives say network by network
                       "เครือข่ายละ", "เบิกจ่ายแล้ว", "ไม่ได้ดำเนินการเบิกจ่าย เนื่องจาก", "เครื่องข่าย"):
        assert phenomenon in joined, phenomenon
    assert re.search(r"รายงานครั้งที่ ?\d+ :: (?!\d)", joined)  # a report without a date
    assert any(t.startswith("ความคืบหน้าโครงการ ร้อยละ") for t in texts.values())  # a crawl cut before its title
    assert any("FusionCharts" in t and "\n\n" not in t for t in texts.values())  # single newlines


def test_the_truth_diff_of_the_whole_warehouse_meets_the_targets(corpus, tmp_path):
    """Every dimension and the bridge: precision 1.0 and recall >= 0.999; facts >= 99.9 %; every dq_issue row
    has a cause; entity_review at most twice the truly ambiguous pairs."""
    settings = Settings.from_env(raw_dir=corpus, warehouse_dir=tmp_path / "wh", reference_dir=REFERENCE)
    run_once(settings)
    diff = truth_diff(corpus, settings.warehouse_dir)
    for table in (*diff.tables, diff.dq):
        assert table.precision == 1.0 and table.recall >= 0.999, (table.table, table.extra(), table.missing())
    assert diff.fields.accuracy >= 0.999, diff.fields.examples[:10]
    assert 0 < diff.ambiguous <= diff.review_rows <= 2 * diff.ambiguous and diff.review_covered == diff.ambiguous
    assert diff.person["precision"] == 1.0 and diff.school["precision"] == 1.0
    assert "dim_school" in diff.as_table()


def test_the_diff_counts_what_the_warehouse_holds_that_the_truth_does_not():
    table = TableDiff("dim_school", {("วัดนิมมานรดี", "5021", 53)},
                      Counter({("วัดนิมมานรดี", "5021", 53): 1, ("สังกัดกรุงเทพมหานครต้องมี", "5021", 55): 1}))
    assert (table.precision, table.recall) == (0.5, 1.0)
    assert table.extra() == ["สังกัดกรุงเทพมหานครต้องมี / 5021 / 55"] and table.missing() == []
    twice = TableDiff("dim_network", {(53, "5021")}, Counter({(53, "5021"): 2}))
    assert twice.precision == 0.5 and twice.extra() == ["53 / 5021"]  # found twice: one row too many


def test_the_world_is_faithful(corpus):
    import json

    world = json.loads(world_path(corpus).read_text(encoding="utf-8"))
    reference = load_reference(REFERENCE)
    registry = {(s.name_th, s.district_id) for s in reference.schools}
    assert sorted(int(n) for n in world["networks"]) == list(range(1, 81))
    for no, net in world["networks"].items():
        members = [s for s in world["schools"].values() if s["network_no"] == int(no)]
        assert {s["district_id"] for s in members} == {net["district_id"]}  # a network lies in one district
        assert world["schools"][net["lead"]]["network_no"] == int(no)
    registered = [s for s in world["schools"].values() if s["in_registry"]]
    assert {(s["name"], s["district_id"]) for s in registered} == registry  # every registry school, once
    assert 0 < len(world["schools"]) - len(registered) <= 8  # missing from the registry: rare, not absent
    assert world["networks"]["53"]["lead"].endswith("วัดนิมมานรดี")


def test_pairwise_scores():
    assert pairwise_scores([("a", 1), ("a", 1), ("b", 2)]) == {
        "precision": 1.0, "recall": 1.0, "f1": 1.0, "items": 3, "true_pairs": 1, "predicted_pairs": 1,
        "entities": 2, "identities": 2, "split": [], "joined": []}
    merged = pairwise_scores([("a", 1), ("a", 1), ("b", 1)])
    assert merged["precision"] == pytest.approx(1 / 3, abs=1e-4) and merged["recall"] == 1.0
    assert merged["joined"] == ["1"] and merged["split"] == []
    split = pairwise_scores([("a", 1), ("a", 2)])
    assert split["precision"] == 1.0 and split["recall"] == 0.0 and split["split"] == ["a"]


def test_variants_merged_counts_ocr_spellings_in_their_entitys_identity():
    # a: read as printed twice and once as a variant, all one identity; b: a variant in an identity of its own
    got = variants_merged([("a", 1, False), ("a", 1, False), ("a", 1, True), ("b", 2, False), ("b", 2, False),
                           ("b", 3, True)])
    assert got == {"mentions": 6, "variants": 2, "variants_merged": 1}


def test_bench_plot(tmp_path):
    pytest.importorskip("matplotlib")  # installed by `make bench` (the bench extra), not by `make test`
    from synth.bench import plot_results

    kinds = ("full", "nightly_unchanged", "nightly_20_new", "fiscal_year_rerun")
    runs = [{"docs": d, **{k: {"seconds": s / (i + 1)} for i, k in enumerate(kinds)}, "peak_rss_mb": m,
             "peak_rss_tree_mb": m * 1.2} for d, s, m in ((1000, 3.0, 220.0), (5000, 7.0, 260.0), (20000, 21.0, 275.0))]
    path = plot_results(runs, tmp_path / "bench.png")
    assert path is not None and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
