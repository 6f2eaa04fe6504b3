"""`make bench`: at 5,000 / 20,000 / 100,000 documents, the runs a night sees, each in a fresh process:
a full build, a nightly run with nothing changed, a nightly run with 20 new documents, a re-run of one
fiscal year; their pipeline time (Prefect's server measured apart, once per size), peak RSS, and the
truth diff of the whole warehouse. Results in bench/results.json, a plot in bench/results.png."""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

from common.settings import PROJECT_ROOT

NEW_DOCUMENTS = 20
RERUN_YEAR = 2565


def _child_run(corpus: Path, warehouse: Path, *extra: str) -> dict:
    out = subprocess.run([sys.executable, "-m", "synth.bench", "--child", str(corpus), str(warehouse), *extra],
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"the run on {corpus} failed (exit {out.returncode}):\n{out.stderr[-4000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _generate(corpus: Path, docs: int, seed: int) -> None:
    if not (corpus.exists() and len(list(corpus.iterdir())) == docs):
        shutil.rmtree(corpus, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "schoolnet.cli", "generate", "--out", str(corpus), "--docs",
                        str(docs), "--seed", str(seed)], check=True, capture_output=True)


def _prefect_overhead(corpus: Path, warehouse: Path, pipeline_s: float) -> float:
    """Wall time of `schoolnet run` (Prefect's temporary server, the flow and its tasks) on an unchanged
    corpus, minus the pipeline's own time for the same run."""
    env = {**os.environ, "PREFECT_HOME": str(warehouse.parent / ".prefect-bench")}
    env.pop("PREFECT_API_URL", None)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "schoolnet.cli", "run", "--raw-dir", str(corpus), "--warehouse-dir",
                    str(warehouse)], check=True, capture_output=True, env=env)
    return round(time.perf_counter() - started - pipeline_s, 2)


def run_size(work: Path, docs: int, seed: int, diff: bool) -> dict:
    corpus, warehouse, extra = work / f"corpus_{docs}", work / f"warehouse_{docs}", work / f"new_{docs}"
    _generate(corpus, docs, seed)
    shutil.rmtree(warehouse, ignore_errors=True)
    full = _child_run(corpus, warehouse)
    result = {"docs": docs, "corpus_mb": round(sum(p.stat().st_size for p in corpus.iterdir()) / 1e6, 1),
              "full": full}
    if diff:
        from synth.truth_diff import truth_diff

        result["truth_diff"] = truth_diff(corpus, warehouse).as_dict()
        result["truth_table"] = truth_diff(corpus, warehouse).as_table()
    result["nightly_unchanged"] = _child_run(corpus, warehouse)
    result["prefect_overhead_s"] = _prefect_overhead(corpus, warehouse, result["nightly_unchanged"]["seconds"])
    _generate(extra, NEW_DOCUMENTS, seed + docs)  # another seed: new projects, the same kind of world
    landed = corpus / "new"
    shutil.copytree(extra, landed, dirs_exist_ok=True)
    try:
        result["nightly_20_new"] = _child_run(corpus, warehouse)
        # the same files: only the year's partitions and what depends on them are written again
        result["fiscal_year_rerun"] = _child_run(corpus, warehouse, "--fiscal-year", str(RERUN_YEAR))
    finally:
        shutil.rmtree(landed)  # the corpus as generated, for the next bench
    for key in ("peak_rss_mb", "peak_rss_main_mb", "peak_rss_tree_mb"):
        result[key] = max(result[k][key] for k in RUNS)
    return result


RUNS = ("full", "nightly_unchanged", "nightly_20_new", "fiscal_year_rerun")


class _TreeSampler(threading.Thread):
    """Every 20 ms, the RSS of this process's children (parsing workers, the chart engine): the largest one
    seen, and the largest sum of this process and its children."""

    def __init__(self) -> None:
        super().__init__(name="rss sampler", daemon=True)
        self.peak_mb, self.worker_mb, self.stop = 0.0, 0.0, threading.Event()

    def run(self) -> None:
        me = os.getpid()
        while not self.stop.wait(0.02):
            sizes = {pid: _rss_of(pid) for pid in _tree(me)}
            self.peak_mb = max(self.peak_mb, sum(sizes.values()))
            self.worker_mb = max([self.worker_mb, *(mb for pid, mb in sizes.items() if pid != me)])

    def finish(self) -> tuple[float, float]:
        """The peak of the sum, and of the largest child (MB)."""
        self.stop.set()
        self.join()
        return round(self.peak_mb, 1), round(self.worker_mb, 1)


def _tree(pid: int) -> list[int]:
    pids = [pid]
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as fh:
                pids += [p for child in fh.read().split() for p in _tree(int(child))]
    except OSError:  # ended while listed
        pass
    return pids


def _rss_of(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


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


def child(corpus: str, warehouse: str, fiscal_year: int | None, full_refresh: bool = False) -> None:
    """The measured run: the pipeline without Prefect, stage by stage, then its peak memory."""
    from common.settings import Settings
    from flows import stages
    from flows.lock import warehouse_lock

    settings = Settings.from_env(raw_dir=corpus, warehouse_dir=warehouse)
    timings: dict[str, float] = {}

    def timed(name: str, stage, *args):  # a StepRunner
        t = time.perf_counter()
        out = stage(*args)
        timings[name] = round(time.perf_counter() - t, 2)
        timings[f"rss_after_{name}_mb"] = _rss_mb()
        return out

    tree = _TreeSampler()
    tree.start()
    started = time.perf_counter()
    with warehouse_lock(settings.warehouse_dir, settings.raw_dir):
        summary = stages.run_stages(settings, stages.new_run_id(), fiscal_year, full_refresh, step=timed)
    seconds = round(time.perf_counter() - started, 2)
    # sampled: RUSAGE_CHILDREN's ru_maxrss is not only this run's workers' (it reported 365 MB for a run
    # that started none)
    together, worker = tree.finish()
    print(json.dumps({"seconds": seconds, "peak_rss_mb": max(_rss_mb(), worker), "peak_rss_main_mb": _rss_mb(),
                      "peak_rss_worker_mb": worker, "peak_rss_tree_mb": max(together, _rss_mb()),
                      "stages": timings, "files": dict(summary.files)}))


def report(runs: list[dict]) -> str:
    lines = [f"{'docs':>7} {'full s':>7} {'docs/s':>7} {'marginal':>8} {'nightly=':>9} {'nightly+20':>10} "
             f"{'FY rerun':>9} {'Prefect':>8} {'RSS MB':>7} {'+workers':>8}"]
    for i, r in enumerate(runs):
        marginal = "" if i == 0 else \
            f"{(r['docs'] - runs[i - 1]['docs']) / (r['full']['seconds'] - runs[i - 1]['full']['seconds']):.0f}"
        lines.append(f"{r['docs']:>7} {r['full']['seconds']:>7} {r['docs'] / r['full']['seconds']:>7.0f} "
                     f"{marginal:>8} {r['nightly_unchanged']['seconds']:>9} {r['nightly_20_new']['seconds']:>10} "
                     f"{r['fiscal_year_rerun']['seconds']:>9} {r['prefect_overhead_s']:>8} "
                     f"{r['peak_rss_mb']:>7} {r['peak_rss_tree_mb']:>8}")
    lines.append("seconds: the pipeline's own, each run in a fresh process without Prefect; marginal: docs/s of the "
                 "full build between this size and the one before; Prefect: what `schoolnet run` adds to a nightly "
                 "run (its temporary server, the flow and task bookkeeping); RSS: the peak of the largest process "
                 "(the run, a parsing worker, or the report's chart engine); +workers: the peak of their sum")
    for r in runs:
        if "truth_table" in r:
            lines += ["", f"truth diff at {r['docs']} documents", r["truth_table"]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m synth.bench", description=__doc__)
    parser.add_argument("--sizes", default="5000,20000,100000")
    parser.add_argument("--diff-up-to", type=int, default=100000, help="truth diff for sizes up to this")
    parser.add_argument("--seed", type=int, default=20261120)
    parser.add_argument("--work", type=Path, default=PROJECT_ROOT / "bench" / "work")
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "bench" / "results.json")
    parser.add_argument("--child", nargs=2, metavar=("CORPUS", "WAREHOUSE"), help=argparse.SUPPRESS)
    parser.add_argument("--fiscal-year", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--full-refresh", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--scans", type=int, default=200, help="documents of the scanned corpus (0: none)")
    parser.add_argument("--scans-sample", type=int, default=30,
                        help="documents of it read by the pipeline and by tesseract alone, side by side")
    parser.add_argument("--scans-only", action="store_true", help="only the scanned corpus")
    args = parser.parse_args(argv)
    if args.child:
        child(*args.child, args.fiscal_year, args.full_refresh)
        return 0
    args.work.mkdir(parents=True, exist_ok=True)
    if args.scans:
        from synth.bench_scans import main as scans_main

        scans_main(args.work, args.scans, args.seed, args.scans_sample, args.out.with_name("scans.json"))
    if args.scans_only:
        return 0
    runs: list[dict] = []
    for docs in (int(s) for s in args.sizes.split(",")):
        runs.append(run_size(args.work, docs, args.seed, docs <= args.diff_up_to))
        lines = report(runs).split("\n")
        print(*(lines[:2] if len(runs) == 1 else lines[len(runs):len(runs) + 1]), sep="\n", flush=True)
    print(report(runs))
    machine = {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"machine": machine, "runs": runs}, indent=2, ensure_ascii=False), encoding="utf-8")
    print(f"written {args.out}")
    plot = plot_results(runs, args.out.with_suffix(".png"))
    print(f"written {plot}" if plot else "no plot: matplotlib is not installed (pip install -e '.[bench]')")
    return 0


def plot_results(runs: list[dict], path: Path) -> Path | None:
    """Run times and peak RSS against corpus size, side by side (None when matplotlib is missing)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    docs = [r["docs"] for r in runs]
    fig, (speed, memory) = plt.subplots(1, 2, figsize=(10, 4))
    for key, label in (("full", "full build"), ("nightly_unchanged", "nightly, nothing changed"),
                       ("nightly_20_new", "nightly, 20 new"), ("fiscal_year_rerun", "one fiscal year")):
        speed.plot(docs, [r[key]["seconds"] for r in runs], marker="o", label=label)
    speed.set(title="pipeline time", xlabel="documents", ylabel="seconds", xscale="log", yscale="log")
    speed.legend()
    memory.plot(docs, [r["peak_rss_mb"] for r in runs], marker="o", label="largest process")
    memory.plot(docs, [r.get("peak_rss_tree_mb", r["peak_rss_mb"]) for r in runs], marker="o",
                label="run, workers and chart engine together")
    memory.set(title="peak RSS", xlabel="documents", ylabel="MB", xscale="log")
    memory.legend()
    memory.set_ylim(bottom=0)
    fig.suptitle(f"schoolnet make bench ({os.cpu_count()} cores, Python {platform.python_version()})")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


if __name__ == "__main__":
    sys.exit(main())
