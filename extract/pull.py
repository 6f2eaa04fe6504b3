"""Pulling raw dumps from their sources into the raw dir, incrementally, never half-landed.

A file is downloaded only when it is new or changed (ETag, Last-Modified and size against the last pull,
conditional requests where the server answers them); a download goes to a temporary file outside the raw
dir, is checked whole (its length against what the server announced), hashed, kept in a content-addressed
archive under the warehouse's state (so nothing fetched is ever lost, even when a changed file replaces
it), and only then lands at <raw-dir>/<source name>/<remote path> in one rename. A name that could escape
the raw dir is refused; a failure of one file is retried with exponential backoff, then recorded, and the
other files still land. Every remote file gets one PullRecord (the pull_ledger row)."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from common.records import PullRecord
from extract.sources import FetchError, Remote, Source, SourceError

MAX_SEGMENT_BYTES, MAX_PATH_BYTES = 200, 1000
_DRIVE = re.compile(r"^[A-Za-z]:")
LANDED_STATUSES = ("fetched", "unchanged", "gone_at_source")


@dataclass(frozen=True)
class PullOptions:
    retries: int = 4  # attempts per file
    backoff_s: float = 0.5  # first wait; doubled after each failed attempt
    max_bytes: int = 20 << 20  # a larger remote file is refused (the run would quarantine it anyway)

    @property
    def limit(self) -> str:
        return f"{self.max_bytes >> 20} MiB limit (SCHOOLNET_MAX_FILE_MB)"


def unsafe_name(path: str) -> str | None:
    """Why a remote name cannot be landed under the raw dir, or None when it can."""
    if not path:
        return "empty name"
    if any(ord(ch) < 32 or ch == "\x7f" for ch in path):
        return "control characters (NUL included) in the name"
    if "\\" in path:
        return "backslash in the name"
    if path.startswith("/") or _DRIVE.match(path):
        return "absolute path"
    segments = path.split("/")
    if any(s in ("", ".", "..") for s in segments):
        return "'..', '.' or an empty part in the path"
    if any(s.startswith(".") for s in segments):
        return "hidden name (starts with '.')"
    if len(path.encode()) > MAX_PATH_BYTES or any(len(s.encode()) > MAX_SEGMENT_BYTES for s in segments):
        return f"name too long (over {MAX_SEGMENT_BYTES} bytes a part or {MAX_PATH_BYTES} in all)"
    return None


class Landing:
    """The raw dir, the archive and the scratch folder of one pull."""

    def __init__(self, raw_dir: Path, state_dir: Path):
        self.raw_dir, self.archive, self.scratch = raw_dir, state_dir / "pulled", state_dir / "pull-tmp"

    def clean(self, source_names: list[str]) -> None:
        """What a killed pull left: scratch downloads, and a link made but never renamed into place."""
        shutil.rmtree(self.scratch, ignore_errors=True)
        self.scratch.mkdir(parents=True, exist_ok=True)
        for name in source_names:
            for stale in (self.raw_dir / name).rglob(".*.pull-*") if (self.raw_dir / name).is_dir() else ():
                stale.unlink(missing_ok=True)

    def keep(self, download: Path, sha: str) -> Path:
        """The download in the archive, by content: <state>/pulled/<sha[:2]>/<sha>."""
        kept = self.archive / sha[:2] / sha
        if not kept.exists():
            kept.parent.mkdir(parents=True, exist_ok=True)
            os.replace(download, kept)
        return kept

    def land(self, kept: Path, relative: str) -> None:
        """The archived content at raw_dir/relative, in one rename (a hard link, or a copy across disks)."""
        target = self.raw_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.parent / f".{target.name}.pull-{os.getpid()}"
        tmp.unlink(missing_ok=True)
        try:
            os.link(kept, tmp)
        except OSError:
            shutil.copyfile(kept, tmp)
        os.replace(tmp, target)


def pull_source(source: Source, landing: Landing, previous: Mapping[str, PullRecord], options: PullOptions,
                sleep: Callable[[float], None] = time.sleep, records: list[PullRecord] | None = None,
                ) -> list[PullRecord]:
    """Pull every file of one source; `previous` is the last record of each of its paths. Each record is
    appended to `records` as soon as it is known (a pull stopped midway still accounts for what it landed)."""
    records = [] if records is None else records
    first = len(records)
    try:
        listing = list(source.listing())
    except SourceError as exc:
        records.append(PullRecord(source.url, "", "failed", error=str(exc)))
        return records[first:]
    if source.truncated:
        records.append(PullRecord(source.url, "", "refused", error=f"the listing names {source.truncated} file(s) "
                                  "more than the cap of links of one listing (SCHOOLNET_PULL_MAX_FILES): not pulled"))
    listed: set[str] = set()
    for remote in listing:
        why = remote.refused or unsafe_name(remote.path)
        if why is None and remote.size is not None and remote.size > options.max_bytes:
            why = f"{remote.size} bytes, over the {options.limit}"
        if why is not None:
            records.append(PullRecord(source.url, remote.path, "refused", size_bytes=remote.size, error=why))
            continue
        listed.add(remote.path)
        records.append(_pull_file(source, remote, previous.get(remote.path), landing, options, sleep))
    for path, record in sorted(previous.items()):
        if path not in listed and record.landed_path and record.status in LANDED_STATUSES:
            records.append(PullRecord(source.url, path, "gone_at_source", record.etag, record.last_modified,
                                      record.size_bytes, record.content_sha256, record.landed_path,
                                      "no longer at the source; the landed file stays"))
    return records[first:]


def _pull_file(source: Source, remote: Remote, before: PullRecord | None, landing: Landing, options: PullOptions,
               sleep: Callable[[float], None]) -> PullRecord:
    relative = f"{source.name}/{remote.path}"
    landed = landing.raw_dir / relative
    intact = (before is not None and before.status in LANDED_STATUSES and before.content_sha256 is not None
              and landed.is_file() and landed.stat().st_size == before.size_bytes)
    known = Remote(remote.path, before.etag, before.last_modified, before.size_bytes) if intact and before else None
    error = ""
    for attempt in range(options.retries):
        if attempt:
            sleep(options.backoff_s * 2 ** (attempt - 1))
        try:
            return _download(source, remote, known, before, landing, relative, options)
        except FetchError as exc:
            if exc.refused:  # the source offers what the pull does not take: asking again changes nothing
                return PullRecord(source.url, remote.path, "refused", remote.etag, remote.last_modified, remote.size,
                                  error=str(exc))
            error = f"{exc} (attempt {attempt + 1} of {options.retries})"
            if not exc.retry:
                break
    return PullRecord(source.url, remote.path, "failed", remote.etag, remote.last_modified, remote.size,
                      error=error)


def _download(source: Source, remote: Remote, known: Remote | None, before: PullRecord | None, landing: Landing,
              relative: str, options: PullOptions) -> PullRecord:
    with tempfile.NamedTemporaryFile(dir=landing.scratch, prefix="download-", delete=False) as fh:
        scratch = Path(fh.name)
        try:
            served = source.fetch(remote, known, fh)
        except BaseException:
            fh.close()
            scratch.unlink(missing_ok=True)
            raise
    if served is None:  # not modified since the last pull
        scratch.unlink(missing_ok=True)
        return PullRecord(source.url, remote.path, "unchanged", known.etag if known else None,
                          known.last_modified if known else None, before.size_bytes if before else None,
                          before.content_sha256 if before else None, relative)
    size = scratch.stat().st_size
    if size > options.max_bytes:
        scratch.unlink(missing_ok=True)
        return PullRecord(source.url, remote.path, "refused", served.etag, served.last_modified, size,
                          error=f"{size} bytes, over the {options.limit}")
    sha = _sha256(scratch)
    status = "unchanged" if known and before and before.content_sha256 == sha else "fetched"
    if status == "fetched":
        landing.land(landing.keep(scratch, sha), relative)
    scratch.unlink(missing_ok=True)
    return PullRecord(source.url, remote.path, status, served.etag or remote.etag,
                      served.last_modified or remote.last_modified, size, sha, relative)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while piece := fh.read(1 << 20):
            digest.update(piece)
    return digest.hexdigest()
