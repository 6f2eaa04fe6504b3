"""The document store: what every raw file contributed, kept between runs, so a run costs what changed.

    _state/store/
      manifest.json                 the live chunks, the fold of their evidence, the store's fingerprint
      chunks/<chunk id>/            one batch of files as the parsing workers staged them: a Parquet file per
                                    staged table, files.parquet (each file's hash, stat and status) and
                                    evidence.pkl (the batch's folded identity evidence)
      files-<run>.parquet           every live file: name, hash, size, mtime, inode, status, its chunk
      docs-<run>.parquet            every live document's stg_doc row, with whether it won its project
      evidence-<run>.pkl            the fold of every live chunk's evidence
      rules-<run>/                  the identity rules the run published (the next run diffs them)

A run lists the raw dir with stat only: a file whose name, size, mtime and inode match files.parquet is
unchanged and is not read (unless the run verifies, which re-hashes every file). New and changed files
are parsed into new chunks; a chunk that held a changed or deleted file is retired and its other files
are parsed again into a new chunk (a chunk is the unit of evidence, which cannot be unfolded). The
manifest is replaced in one rename once the run has published: a killed run leaves the store as it was,
and what it wrote is garbage the next run removes. A store whose fingerprint (the parser's code, the
reference data, the overrides, the matching settings) differs from the run's is not used.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from extract.discover import Listing, file_sha256
from load.state import STATE_DIR, parser_fingerprint
from transform.entities import Evidence

STORE_DIR = "store"
OCR_DIR = "ocr"  # the OCR texts of scans, beside the chunks
MANIFEST = "manifest.json"
FILE_SCHEMA = pa.schema([
    ("source_file", pa.string()), ("content_sha256", pa.string()), ("size_bytes", pa.int64()),
    ("mtime_ns", pa.int64()), ("inode", pa.int64()), ("status", pa.string()), ("reason", pa.string()),
    ("layout", pa.string()), ("chunk_id", pa.string()),
])
REFERENCE_FILES = ("bangkok_districts.csv", "bma_schools.csv", "bma_agencies.csv", "agency_names.csv",
                   "overrides.csv")
# the code that turns a parsed dump into a chunk's rows (the parser's own is in parser_fingerprint)
CHUNK_CODE = tuple(Path(__file__).parents[1] / f for f in ("flows/workers.py", "load/staging.py", "load/tables.py"))


def store_fingerprint(reference_dir: str, match_settings: str) -> str:
    """What a chunk's rows depend on: the parser's code and titles, the code that stages rows into chunks,
    the reference data and overrides the workers read, and the matching settings they resolve districts with."""
    digest = hashlib.sha256(parser_fingerprint(reference_dir).encode() + match_settings.encode())
    for path in CHUNK_CODE:
        digest.update(path.name.encode() + path.read_bytes())
    for name in REFERENCE_FILES:
        path = Path(reference_dir) / name
        digest.update(name.encode() + (path.read_bytes() if path.exists() else b""))
    return digest.hexdigest()[:16]


@dataclass
class Manifest:
    fingerprint: str
    chunks: list[str] = field(default_factory=list)
    files: str | None = None  # files-<run>.parquet
    docs: str | None = None  # docs-<run>.parquet
    evidence: str | None = None  # evidence-<run>.pkl: the fold of exactly `chunks`
    rules: str | None = None  # rules-<run>/
    version: str | None = None  # the published version (run id) that was built from exactly this store
    assembly: str | None = None  # load.state.assembly_fingerprint() of the code that built that version

    @classmethod
    def read(cls, path: Path) -> Manifest | None:
        try:
            return cls(**json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            return None


class Store:
    """The store of one warehouse, as its manifest says (an empty one when it is absent or of another
    fingerprint)."""

    def __init__(self, warehouse_dir: Path, fingerprint: str, fresh: bool = False):
        self.warehouse_dir = warehouse_dir
        self.root = warehouse_dir / STATE_DIR / STORE_DIR
        self.fingerprint = fingerprint
        found = None if fresh else Manifest.read(self.root / MANIFEST)
        self.manifest = found if found and found.fingerprint == fingerprint else Manifest(fingerprint)

    @property
    def empty(self) -> bool:
        return not self.manifest.chunks

    @property
    def chunks_root(self) -> Path:
        return self.root / "chunks"

    @property
    def ocr_root(self) -> Path:
        """The text of every OCR pass of a scan, by content hash and OCR settings (extract/documents.py): it
        outlives a full refresh, and garbage collection keeps the entries of the files the store holds."""
        return self.root / OCR_DIR

    def chunk_dir(self, chunk_id: str) -> Path:
        return self.chunks_root / chunk_id

    def table_files(self, name: str, chunks: list[str]) -> list[Path]:
        """The staged table `name` of the given chunks (a chunk where no document had such rows has none)."""
        return [p for p in (self.chunk_dir(c) / f"{name}.parquet" for c in chunks) if p.exists()]

    def files(self) -> pa.Table:
        """Every live file with its hash, stat, status and chunk."""
        if not self.manifest.files:
            return FILE_SCHEMA.empty_table()
        return pq.read_table(self.root / self.manifest.files, schema=FILE_SCHEMA)

    def docs_path(self) -> Path | None:
        return self.root / self.manifest.docs if self.manifest.docs else None

    def rules_dir(self) -> Path | None:
        return self.root / self.manifest.rules if self.manifest.rules else None

    def load_evidence(self, chunk_id: str) -> Evidence:
        with (self.chunk_dir(chunk_id) / "evidence.pkl").open("rb") as fh:
            return pickle.load(fh)

    def total_evidence(self) -> Evidence | None:
        """The fold of the live chunks' evidence as the last run left it (None when there is none)."""
        if not self.manifest.evidence:
            return None
        with (self.root / self.manifest.evidence).open("rb") as fh:
            return pickle.load(fh)

    def write(self, name: str, table: pa.Table) -> str:
        """A consolidated table of this run, written in one rename; returns its name in the store."""
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.pending(name)
        pq.write_table(table, tmp, compression="zstd")
        os.replace(tmp, self.root / name)
        return name

    def pending(self, name: str) -> Path:
        """Where a run writes a consolidated file itself (DuckDB's COPY) before keep() names it."""
        self.root.mkdir(parents=True, exist_ok=True)
        return self.root / f".{name}.tmp"

    def keep(self, name: str) -> str:
        """The file written at pending(name), under its name (one rename); returns the name."""
        os.replace(self.pending(name), self.root / name)
        return name

    def write_pickle(self, name: str, value: object) -> str:
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.root / f".{name}.tmp"
        with tmp.open("wb") as fh:
            pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, self.root / name)
        return name

    def write_rules(self, name: str, tables: dict[str, pa.Table]) -> str:
        """The identity rules a run published, as a folder of Parquet files written in one rename."""
        tmp = self.root / f".{name}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        for table_name, table in tables.items():
            pq.write_table(table, tmp / f"{table_name}.parquet", compression="zstd")
        shutil.rmtree(self.root / name, ignore_errors=True)
        os.replace(tmp, self.root / name)
        return name

    def commit(self, manifest: Manifest) -> None:
        """Make `manifest` the store's (one rename), then remove what no manifest names any more."""
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.root / f".{MANIFEST}.tmp"
        tmp.write_text(json.dumps(manifest.__dict__, indent=1), encoding="utf-8")
        os.replace(tmp, self.root / MANIFEST)
        self.manifest = manifest
        self.collect_garbage()

    def collect_garbage(self) -> list[str]:
        """Remove the chunks and consolidated files that the manifest on disk does not name: retired ones, or
        a killed run's. (A run that starts a fresh store leaves the old one in place until it commits: a
        killed run must leave the store the current version was built from.)"""
        if not self.root.exists():
            return []
        m = Manifest.read(self.root / MANIFEST) or Manifest("")
        keep = {MANIFEST, m.files, m.docs, m.evidence, m.rules} - {None}
        removed = [p.name for p in self.root.iterdir() if p.name not in keep and p.name not in ("chunks", OCR_DIR)]
        for name in removed:
            path = self.root / name
            shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
        removed += self._collect_ocr(m)
        live = set(m.chunks)
        chunks = self.root / "chunks"
        for path in (chunks.iterdir() if chunks.exists() else ()):
            if path.name not in live:
                shutil.rmtree(path, ignore_errors=True)
                removed.append(f"chunks/{path.name}")
        return removed


    def _collect_ocr(self, manifest: Manifest) -> list[str]:
        """OCR texts of files the store no longer holds (the file changed or is gone)."""
        if not self.ocr_root.exists() or not manifest.files:
            return []
        shas = set(pq.read_table(self.root / manifest.files, columns=["content_sha256"]).column(0).to_pylist())
        removed = []
        for path in self.ocr_root.iterdir():
            if path.name.split("-", 1)[0].lstrip(".") not in shas:
                path.unlink(missing_ok=True)
                removed.append(f"{OCR_DIR}/{path.name}")
        return removed


def new_chunk_id(run_id: str, number: int) -> str:
    return f"{run_id}-{number:05d}"


@dataclass
class Plan:
    """What a run does with each raw file, against the store."""

    process: list[tuple[str, str | None]]  # (file, its previous hash or None): parsed into new chunks
    kept: pa.Table  # the store's rows (FILE_SCHEMA) of the files neither read nor parsed, with today's stat
    retired: list[str]  # chunks that held a changed or deleted file: their other files are parsed again
    live: list[str]  # chunks kept as they are
    deleted: list[str]  # files the store had that are gone from the raw dir
    hashed: int = 0  # files read only to tell whether a different stat meant a different content


STAT = ("size_bytes", "mtime_ns", "inode")


def plan_run(store: Store, listing: Listing, raw_dir: Path, verify: bool = False) -> Plan:
    """Compare the listing (extract.discover.scan_files) with the store, column by column: same name, size,
    mtime and inode is unchanged; a different stat is hashed, and only a different content is a change (so
    is every file whose hash differs when the run verifies). A chunk that held a changed or deleted file
    is retired (a quarantined file contributed nothing to its chunk: it retires none)."""
    listed = pa.table({"source_file": pa.array(listing.source_file, pa.string()),
                       **{c: pa.array(getattr(listing, c), pa.int64()) for c in STAT}}).sort_by("source_file")
    index = store.files()
    stored = index.rename_columns([f"stored_{c}" if c in STAT else c for c in index.column_names])
    both = _side_by_side(listed, stored)
    in_raw, in_store = pc.is_valid(both["size_bytes"]), pc.is_valid(both["chunk_id"])
    present = pc.and_(in_raw, in_store)
    size, mtime, inode = (pc.not_equal(both[c], both[f"stored_{c}"]) for c in STAT)
    moved = pc.or_(pc.or_(size, mtime), inode)
    suspects = both.filter(present if verify else pc.and_(present, moved))
    names, shas = suspects["source_file"].to_pylist(), suspects["content_sha256"].to_pylist()
    digests = _hash_all(raw_dir, names) if names else []
    changed = sorted(n for n, sha, digest in zip(names, shas, digests, strict=True) if digest is None or digest != sha)
    deleted = pc.filter(both["source_file"], pc.invert(in_raw)).to_pylist()
    leaving = both.filter(pc.is_in(both["source_file"], pa.array([*changed, *deleted], pa.string())))
    retired = sorted(set(pc.filter(leaving["chunk_id"], pc.not_equal(leaving["status"], "quarantined")).to_pylist()))
    staying = both.filter(pc.and_(present, pc.invert(pc.is_in(both["source_file"], pa.array(changed, pa.string())))))
    gone = pc.is_in(staying["chunk_id"], pa.array(retired, pa.string()))
    again = staying.filter(gone)
    new = pc.filter(both["source_file"], pc.invert(in_store)).to_pylist()
    process = sorted([*((n, sha) for n, sha in zip(changed, _shas_of(both, changed), strict=True)),
                      *zip(again["source_file"].to_pylist(), again["content_sha256"].to_pylist(), strict=True),
                      *((n, None) for n in new)])
    kept = staying.filter(pc.invert(gone)).select(FILE_SCHEMA.names).cast(FILE_SCHEMA)
    return Plan(process, kept, retired, sorted(set(store.manifest.chunks) - set(retired)), deleted, len(names))


def _side_by_side(listed: pa.Table, stored: pa.Table) -> pa.Table:
    """Each name with its listing and its store row (either side null where it has none), by name. The
    usual night lists the names the store has: the sorted columns are then put side by side (a join of
    100,000 names costs ten times more)."""
    names, stored_names = listed["source_file"], stored["source_file"]
    others = [c for c in stored.column_names if c != "source_file"]
    if names.equals(stored_names):
        return pa.table({**{c: listed[c] for c in listed.column_names}, **{c: stored[c] for c in others}})
    at = pc.index_in(names, value_set=stored_names)  # each listed name's store row, null for a new file
    side = pa.table({**{c: listed[c] for c in listed.column_names},
                     **{c: pc.take(stored[c], at) for c in others}})
    gone = stored.filter(pc.invert(pc.is_in(stored_names, value_set=names)))
    if not gone.num_rows:
        return side
    gone_side = pa.table({"source_file": gone["source_file"],
                          **{c: pa.nulls(gone.num_rows, listed.schema.field(c).type) for c in STAT},
                          **{c: gone[c] for c in others}})
    return pa.concat_tables([side, gone_side])


def _shas_of(table: pa.Table, names: list[str]) -> list[str]:
    """The stored hash of each of `names` (in that order)."""
    rows = table.filter(pc.is_in(table["source_file"], pa.array(names, pa.string())))
    found = dict(zip(rows["source_file"].to_pylist(), rows["content_sha256"].to_pylist(), strict=True))
    return [found[n] for n in names]


def _hash_all(raw_dir: Path, names: list[str]) -> list[str | None]:
    """SHA-256 of each file (None for one that cannot be read), on a few threads: hashing releases the GIL."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(lambda name: file_sha256(raw_dir, name), names))
