"""Finding raw dumps and reading them as text, with their content hash."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

RAW_SUFFIXES = {".txt", ".md", ".html", ".htm"}
ENCODINGS = ("utf-8-sig", "utf-16", "cp874")


class ExtractError(OSError):
    """The landing folder cannot be read."""


@dataclass(frozen=True)
class RawFile:
    source_file: str  # relative to the raw dir, '/'-separated
    path: Path
    content_sha256: str
    size_bytes: int


@dataclass(frozen=True)
class DecodedDump:
    source_file: str
    text: str | None
    error: str | None  # why the bytes are not text, when they are not


def discover_dumps(raw_dir: Path) -> list[RawFile]:
    """Every regular file under raw_dir (hidden files and folders skipped), sorted by relative name."""
    if not raw_dir.is_dir():
        raise ExtractError(f"raw dir {raw_dir} does not exist or is not a folder")
    found = []
    for path in sorted(_walk(raw_dir)):
        data = path.read_bytes()
        found.append(RawFile(path.relative_to(raw_dir).as_posix(), path,
                             hashlib.sha256(data).hexdigest(), len(data)))
    return found


def _walk(root: Path) -> Iterator[Path]:
    for path in root.rglob("*"):
        rel = path.relative_to(root)
        if any(part.startswith(".") for part in rel.parts):
            continue
        if path.is_file() and not path.is_symlink():
            yield path


def decode_dump(raw: RawFile) -> DecodedDump:
    """Bytes -> text: UTF-8 (BOM or not), UTF-16 with BOM, then Windows-874/TIS-620 for Thai."""
    data = raw.path.read_bytes()
    if not data.strip():
        return DecodedDump(raw.source_file, None, "empty file")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates: tuple[str, ...] = ("utf-16",)
    else:
        candidates = ("utf-8-sig", "cp874")
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in text:
            return DecodedDump(raw.source_file, None, f"binary content (NUL characters) as {encoding}")
        return DecodedDump(raw.source_file, text, None)
    return DecodedDump(raw.source_file, None, "not decodable as UTF-8, UTF-16 or Windows-874")
