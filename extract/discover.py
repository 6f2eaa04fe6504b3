"""Finding raw dumps and reading them as text, with their content hash."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


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


def discover_dumps(raw_dir: Path) -> list[tuple[str, Path]]:
    """(name relative to raw_dir, path) of every regular file under raw_dir, hidden ones skipped, sorted."""
    if not raw_dir.is_dir():
        raise ExtractError(f"raw dir {raw_dir} does not exist or is not a folder")
    return sorted((path.relative_to(raw_dir).as_posix(), path) for path in _walk(raw_dir))


def _walk(root: Path) -> Iterator[Path]:
    for path in root.rglob("*"):
        rel = path.relative_to(root)
        if any(part.startswith(".") for part in rel.parts):
            continue
        if path.is_file() and not path.is_symlink():
            yield path


def read_raw(source_file: str, path: Path) -> tuple[RawFile, bytes]:
    """The bytes of a raw file with their SHA-256 (the file is only read, never changed)."""
    data = path.read_bytes()
    return RawFile(source_file, path, hashlib.sha256(data).hexdigest(), len(data)), data


def decode_dump(source_file: str, data: bytes) -> DecodedDump:
    """Bytes -> text: UTF-8 (BOM or not), UTF-16 with BOM, then Windows-874/TIS-620 for Thai."""
    if not data.strip():
        return DecodedDump(source_file, None, "empty file")
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
            return DecodedDump(source_file, None, f"binary content (NUL characters) as {encoding}")
        return DecodedDump(source_file, text, None)
    return DecodedDump(source_file, None, "not decodable as UTF-8, UTF-16 or Windows-874")
