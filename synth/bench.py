"""`make bench`: generate 1,000 / 5,000 / 20,000 documents, run the pipeline on each in a fresh process,
and report marginal docs/s, peak RSS, field accuracy and identity precision / recall / F1."""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

from common.settings import PROJECT_ROOT


def run_size(work: Path, docs: int, seed: int) -> dict:
    corpus = work / f"corpus_{docs}"
    warehouse = work / f"warehouse_{docs}"
    shutil.rmtree(warehouse, ignore_errors=True)
    if not corpus.exists():
        subprocess.run([sys.executable, "-m", "schoolnet.cli", "generate", "--out", str(corpus), "--docs", str(docs),
                        "--seed", str(seed)], check=True)
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "synth.bench", "--child", str(corpus), str(warehouse)],
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"the run on {docs} documents failed (exit {out.returncode}):\n{out.stderr[-4000:]}")
    elapsed = time.perf_counter() - started
    child = json.loads(out.stdout.strip().splitlines()[-1])
    from synth.corpus import truth_path
    from synth.evaluate import evaluate

    quality = evaluate(truth_path(corpus), warehouse)
    size_mb = sum(p.stat().st_size for p in corpus.iterdir()) / 1e6
    return {"docs": docs, "corpus_mb": round(size_mb, 1), "seconds": round(elapsed, 2),
            "docs_per_s": round(docs / elapsed, 1), "peak_rss_mb": child["peak_rss_mb"],
            "peak_rss_main_mb": child["peak_rss_main_mb"], "stage_seconds": child["stages"],
            **quality.as_dict()}


def _rss_mb() -> float:
    """This process's peak RSS so far. On Linux from /proc: getrusage's ru_maxrss survives exec, so a
    child started by the bench would report the bench's own peak as its floor."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def child(corpus: str, warehouse: str) -> None:
    """The measured run: the pipeline without Prefect, stage by stage, then its peak memory."""
    from common.settings import Settings

    settings = Settings.from_env(raw_dir=corpus, warehouse_dir=warehouse)
    stages = {}
    t = time.perf_counter()
    run_id = stages.new_run_id()
    ingested = stages.ingest(settings, run_id=run_id)
    stages["extract_parse"] = round(time.perf_counter() - t, 2)
    stages["rss_after_extract_parse_mb"] = _rss_mb()
    t = time.perf_counter()
    resolution, reference = stages.resolve(ingested, settings, run_id)
    stages["resolve"] = round(time.perf_counter() - t, 2)
    stages["rss_after_resolve_mb"] = _rss_mb()
    t = time.perf_counter()
    stages.load(ingested, resolution, reference, settings, run_id)
    stages["load"] = round(time.perf_counter() - t, 2)
    stages["rss_after_load_mb"] = _rss_mb()
    main = _rss_mb()
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # the largest parsing worker
    print(json.dumps({"peak_rss_mb": round(max(main, children), 1), "peak_rss_main_mb": round(main, 1),
                      "stages": stages}))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m synth.bench", description=__doc__)
    parser.add_argument("--sizes", default="1000,5000,20000")
    parser.add_argument("--seed", type=int, default=20261120)
    parser.add_argument("--work", type=Path, default=PROJECT_ROOT / "bench" / "work")
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "bench" / "results.json")
    parser.add_argument("--child", nargs=2, metavar=("CORPUS", "WAREHOUSE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(*args.child)
        return 0
    args.work.mkdir(parents=True, exist_ok=True)
    runs = []
    for docs in (int(s) for s in args.sizes.split(",")):
        result = run_size(args.work, docs, args.seed)
        runs.append(result)
        print(f"{docs:>6} docs  {result['corpus_mb']:>7} MB  {result['seconds']:>7} s  "
              f"{result['docs_per_s']:>7} docs/s  "
              f"peak RSS {result['peak_rss_mb']:>7} MB  field accuracy {result['field_accuracy']:.4%}  "
              f"person P/R/F1 {result['person']['precision']}/{result['person']['recall']}/{result['person']['f1']}  "
              f"school P/R/F1 {result['school']['precision']}/{result['school']['recall']}/{result['school']['f1']}",
              flush=True)
    marginal = None
    if len(runs) >= 2:
        a, b = runs[-2], runs[-1]
        marginal = round((b["docs"] - a["docs"]) / (b["seconds"] - a["seconds"]), 1)
        print(f"marginal throughput {a['docs']}->{b['docs']}: {marginal} docs/s")
    report = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
              "runs": runs, "marginal_docs_per_s": marginal}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    print(f"written {args.out}")
    plot = plot_results(runs, args.out.with_suffix(".png"))
    print(f"written {plot}" if plot else "no plot: matplotlib is not installed (pip install -e '.[bench]')")
    return 0


def plot_results(runs: list[dict], path: Path) -> Path | None:
    """docs/s and peak RSS against corpus size, side by side (None when matplotlib is missing)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    docs = [r["docs"] for r in runs]
    fig, (speed, memory) = plt.subplots(1, 2, figsize=(10, 4))
    speed.plot(docs, [r["docs_per_s"] for r in runs], marker="o")
    speed.set(title="throughput", xlabel="documents", ylabel="documents / s", xscale="log")
    speed.set_ylim(bottom=0)
    memory.plot(docs, [r["peak_rss_mb"] for r in runs], marker="o", label="peak RSS (run)")
    memory.plot(docs, [r["stage_seconds"]["rss_after_extract_parse_mb"] for r in runs], marker=".",
                linestyle="--", label="after parse")
    memory.set(title="memory", xlabel="documents", ylabel="MB", xscale="log")
    memory.set_ylim(bottom=0)
    memory.legend()
    fig.suptitle(f"schoolnet make bench ({os.cpu_count()} cores, Python {platform.python_version()})")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


if __name__ == "__main__":
    sys.exit(main())
