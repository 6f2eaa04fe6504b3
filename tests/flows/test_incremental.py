"""A nightly run costs what changed and gives exactly what a full rebuild gives.

One warehouse lives through a sequence of nights (additions, edits, a touched file, deletions that change a
project's chosen source, a new fiscal year, a night with nothing new, a fiscal-year re-run); after each,
a copy of the warehouse as it was that morning is rebuilt with --full-refresh on the same raw files, and
the two are compared table by table, row by row.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from common.settings import Settings
from extract import discover
from extract.reference import load_reference
from flows.stages import run_once
from load.layout import current_version
from load.store import STORE_DIR, Manifest
from synth.corpus import generate, truth_path
from tests.conftest import REFERENCE

DOCS = 160
RUN_COLUMNS = ("run_id", "recorded_at", "first_run_id", "pulled_at")  # differ between any two runs


def _tables(warehouse: Path) -> dict[str, list[str]]:
    """Every published table as sorted rows (run ids and times blanked; this run's ledger statuses say only
    whether a file was quarantined: a full refresh loads what a nightly run finds unchanged)."""
    version = current_version(warehouse)
    assert version is not None
    out = {}
    for folder in sorted(p for p in version.iterdir() if p.is_dir() and p.name != "report"):
        rows = [r for f in sorted(folder.rglob("*.parquet")) for r in pq.read_table(f).to_pylist()]
        if folder.name == "ingest_ledger":
            last = max(r["run_id"] for r in rows)
            rows = [{**r, "status": r["status"].replace("unchanged", "loaded")} if r["run_id"] == last else r
                    for r in rows]
        out[folder.name] = sorted(json.dumps({k: (None if k in RUN_COLUMNS else v) for k, v in r.items()},
                                             default=str, ensure_ascii=False, sort_keys=True) for r in rows)
    return out


def _diff(a: dict[str, list[str]], b: dict[str, list[str]]) -> list[str]:
    problems = [f"{t}: only in one" for t in set(a) ^ set(b)]
    for t in sorted(set(a) & set(b)):
        if a[t] != b[t]:
            only_a, only_b = sorted(set(a[t]) - set(b[t])), sorted(set(b[t]) - set(a[t]))
            problems.append(f"{t}: {len(a[t])} vs {len(b[t])} rows; nightly only {only_a[:2]}, "
                            f"rebuild only {only_b[:2]}")
    return problems


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[Path, Path, dict[str, int]]:
    """Two corpora of different seeds (the second's texts become edits); each file's fiscal year."""
    root = tmp_path_factory.mktemp("corpus")
    reference = load_reference(REFERENCE)
    generate(root / "a", DOCS, 7, reference)
    generate(root / "b", 40, 8, reference)
    # the files that load with a fiscal year (a crawl cut before its title is quarantined; a department's page
    # printed without its year has none): the nights below count what they load
    years = {r["source_file"]: r["header"]["fiscal_year"] for r in _truth(root / "a")
             if not r["quarantined"] and r["header"]["fiscal_year"] is not None}
    return root / "a", root / "b", years


def _truth(corpus_dir: Path) -> list[dict]:
    return [json.loads(line) for line in truth_path(corpus_dir).read_text(encoding="utf-8").splitlines()]


def _loadable(corpus_dir: Path) -> list[Path]:
    return [corpus_dir / r["source_file"] for r in _truth(corpus_dir)
            if not r["quarantined"] and r["header"]["fiscal_year"] is not None]


def _expected_files(corpus_dir: Path, status: str) -> dict[str, int]:
    """A run's file tally over the whole corpus: every file `status`, but the quarantined ones."""
    quarantined = sum(1 for r in _truth(corpus_dir) if r["quarantined"])
    return {status: DOCS - quarantined, **({"quarantined": quarantined} if quarantined else {})}


class Nights:
    """A warehouse through its nights, each checked against a full rebuild."""

    def __init__(self, tmp: Path):
        self.tmp, self.raw, self.warehouse = tmp, tmp / "raw", tmp / "wh"
        self.raw.mkdir()
        self.night = 0

    def settings(self, warehouse: Path) -> Settings:
        return Settings.from_env(raw_dir=self.raw, warehouse_dir=warehouse, reference_dir=REFERENCE, workers=1,
                                 batch_size=16)

    def run(self, fiscal_year: int | None = None):
        """The night's run, and a full rebuild of the morning's warehouse on the same files: the same tables."""
        self.night += 1
        morning = self.tmp / f"rebuild-{self.night}"
        if self.warehouse.exists():
            shutil.copytree(self.warehouse, morning, symlinks=True)
        summary = run_once(self.settings(self.warehouse), fiscal_year)
        run_once(self.settings(morning), fiscal_year, full_refresh=True)
        assert _diff(_tables(self.warehouse), _tables(morning)) == []
        shutil.rmtree(morning)
        return summary


def test_a_sequence_of_nights_gives_what_a_full_rebuild_gives(tmp_path, corpus):
    a, b, years = corpus
    names = sorted(years)
    late_year = max(years.values())
    early = [n for n in names if years[n] != late_year]
    first, later = early[:-12], early[-12:]
    nights = Nights(tmp_path)
    for name in first:
        shutil.copy(a / name, nights.raw / name)
    winner = first[3]
    shutil.copy(a / winner, nights.raw / f"zz-copy-of-{winner}")  # the same project twice: the first name wins

    summary = nights.run()
    assert summary.files["loaded"] == len(first) + 1

    for name in later:  # additions
        shutil.copy(a / name, nights.raw / name)
    summary = nights.run()
    assert summary.files["loaded"] == len(later) and summary.files["unchanged"] == len(first) + 1

    edited = first[10:14]  # edits: other documents' texts under the same names
    for name, other in zip(edited, sorted(_loadable(b)), strict=False):
        shutil.copy(other, nights.raw / name)
    touched = nights.raw / first[20]  # a touched file: another mtime, the same bytes
    os.utime(touched, ns=(touched.stat().st_atime_ns, touched.stat().st_mtime_ns + 10**9))
    summary = nights.run()
    assert summary.files["loaded"] == len(edited)

    (nights.raw / winner).unlink()  # deletions, one of them a project's chosen source: the copy takes over
    for name in first[30:33]:
        (nights.raw / name).unlink()
    nights.run()

    for name in names:  # a new fiscal year
        if years[name] == late_year:
            shutil.copy(a / name, nights.raw / name)
    nights.run()
    assert (nights.warehouse / "fact_monthly_progress" / f"fiscal_year={late_year}").is_dir()

    summary = nights.run()  # nothing changed
    assert summary.files["loaded"] == 0

    nights.run(fiscal_year=min(years.values()))  # an ad-hoc re-run of one fiscal year


def _built(tmp_path: Path, corpus_dir: Path) -> tuple[Path, Path, Settings]:
    """A raw dir copied from the corpus and its warehouse, built once: (raw, warehouse, settings)."""
    raw, warehouse = tmp_path / "raw", tmp_path / "wh"
    shutil.copytree(corpus_dir, raw)
    settings = Settings.from_env(raw_dir=raw, warehouse_dir=warehouse, reference_dir=REFERENCE, workers=1)
    run_once(settings)
    return raw, warehouse, settings


def test_an_unchanged_file_is_not_read_and_verify_reads_every_file(tmp_path, corpus, monkeypatch):
    a, _, _ = corpus
    raw, warehouse, settings = _built(tmp_path, a)
    opened: list[str] = []
    real_open = discover.open_beneath  # every read of a raw file goes through it

    def spy(root, relative):
        if Path(root) == raw:
            opened.append(relative)
        return real_open(root, relative)

    monkeypatch.setattr(discover, "open_beneath", spy)
    assert run_once(settings).files == _expected_files(a, "unchanged") and opened == []
    summary = run_once(settings, verify=True)
    assert summary.files == _expected_files(a, "unchanged") and len(opened) == DOCS


def test_a_killed_run_leaves_the_store_as_it_was(tmp_path, corpus, monkeypatch):
    a, _, _ = corpus
    raw, warehouse, settings = _built(tmp_path, a)
    store = warehouse / "_state" / STORE_DIR
    before = Manifest.read(store / "manifest.json")
    (raw / "new.txt").write_text(sorted(_loadable(a))[0].read_text(encoding="utf-8"), encoding="utf-8")

    def killed(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("flows.stages.publish", killed)
    with pytest.raises(KeyboardInterrupt):
        run_once(settings)
    assert Manifest.read(store / "manifest.json") == before
    monkeypatch.undo()
    summary = run_once(settings)
    assert summary.files == {**_expected_files(a, "unchanged"), "loaded": 1}
    live = set(Manifest.read(store / "manifest.json").chunks)
    assert {p.name for p in (store / "chunks").iterdir()} == live  # the killed run's chunk was collected
