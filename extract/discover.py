"""Finding raw dumps (names and stat only: whether a file changed is told without reading it) and reading them
as text, with their content hash."""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path


class ExtractError(OSError):
    """The landing folder cannot be read."""


class SymlinkError(OSError):
    """A raw 'file' that is a symbolic link."""


@dataclass(frozen=True, slots=True)
class RawFile:
    source_file: str  # relative to the raw dir, '/'-separated
    path: Path
    content_sha256: str
    size_bytes: int
    mtime_ns: int = 0  # of the file as it was read (fstat of the open file)
    inode: int = 0


@dataclass
class Listing:
    """The raw files as a listing sees them, column by column (100,000 files: four lists, not 100,000
    objects): each name ('/'-separated, relative to the raw dir) and what tells a change without reading it.
    A file that vanished while listed has -1 for its stat."""

    source_file: list[str] = field(default_factory=list)
    size_bytes: list[int] = field(default_factory=list)
    mtime_ns: list[int] = field(default_factory=list)
    inode: list[int] = field(default_factory=list)
    undecodable: set[str] = field(default_factory=set)  # names (bytes escaped) that are not valid UTF-8

    def __len__(self) -> int:
        return len(self.source_file)

    def add(self, name: str, size: int, mtime_ns: int, inode: int) -> None:
        self.source_file.append(name)
        self.size_bytes.append(size)
        self.mtime_ns.append(mtime_ns)
        self.inode.append(inode)


@dataclass(frozen=True)
class DecodedDump:
    source_file: str
    text: str | None
    error: str | None  # why the bytes are not text, when they are not


def scan_files(raw_dir: Path) -> Listing:
    """Every regular file and symbolic link under raw_dir (hidden ones skipped), with its lstat, in the
    order of the file system (the store sorts). One stat per file, no read. A name that is not valid UTF-8
    (a Windows-874 name from a file share) is listed with its bytes escaped and marked undecodable."""
    if not raw_dir.is_dir():
        raise ExtractError(f"raw dir {raw_dir} does not exist or is not a folder")
    listing = Listing()
    _walk(str(raw_dir), "", listing, False)
    return listing


def shown_name(name: str) -> str:
    """A name as the file system gave it (undecodable bytes as surrogates) with those bytes escaped: \\xff."""
    return os.fsencode(name).decode("utf-8", "backslashreplace")


def lstat_shown(raw_dir: Path, shown: str) -> os.stat_result | None:
    """The lstat of the file listed as `shown` (its undecodable bytes escaped), found by listing each folder on
    its way; None when it is gone."""
    folder = str(raw_dir)
    parts = shown.split("/")
    for depth, part in enumerate(parts):
        try:
            with os.scandir(folder) as entries:
                match = next((e for e in entries if shown_name(e.name) == part), None)
        except OSError:
            return None
        if match is None:
            return None
        if depth == len(parts) - 1:
            try:
                return match.stat(follow_symlinks=False)
            except OSError:
                return None
        if not match.is_dir(follow_symlinks=False):
            return None
        folder = match.path
    return None


def _valid_utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _walk(folder: str, prefix: str, listing: Listing, undecodable: bool) -> None:
    """Regular files and symbolic links (which are reported, never followed); hidden names are skipped,
    and so is a subfolder that cannot be listed. Each is stat'ed relative to its folder's descriptor (a
    third faster than by its whole path)."""
    try:
        entries = os.scandir(folder)
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    subfolders = []
    try:
        with entries:
            for entry in entries:
                name = entry.name
                if name.startswith("."):
                    continue
                bad = undecodable or not _valid_utf8(name)
                shown = shown_name(name) if bad else name
                if entry.is_symlink() or entry.is_file(follow_symlinks=False):
                    if bad:
                        listing.undecodable.add(prefix + shown)
                    try:
                        st = os.stat(name, dir_fd=fd, follow_symlinks=False)
                    except OSError:  # vanished while listed: the run accounts for it when it reads it
                        listing.add(prefix + shown, -1, -1, -1)
                        continue
                    listing.add(prefix + shown, st.st_size, st.st_mtime_ns, st.st_ino)
                elif entry.is_dir(follow_symlinks=False):
                    subfolders.append((entry.path, prefix + shown + "/", bad))
    finally:
        os.close(fd)
    for path, sub, bad in subfolders:
        _walk(path, sub, listing, bad)


def open_beneath(root: Path, relative: str) -> int:
    """A descriptor of the regular file root/relative, each folder on the way and the file itself opened
    relative to its parent's descriptor without following a symbolic link (O_NOFOLLOW): a folder swapped for
    a link between the listing and the read is refused, not followed. The root itself is the operator's."""
    parts = relative.split("/")
    if any(p in ("", ".", "..") for p in parts):
        raise OSError(errno.EINVAL, f"not a plain relative name: {relative!r}")
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for depth, part in enumerate(parts):
            last = depth == len(parts) - 1
            flags = os.O_RDONLY | os.O_NOFOLLOW | (os.O_NONBLOCK if last else os.O_DIRECTORY)
            try:
                child = os.open(part, flags, dir_fd=fd)
            except OSError as exc:
                if exc.errno in (errno.ELOOP, errno.ENOTDIR) and _is_link(part, fd):
                    where = "/".join(parts[:depth + 1])
                    raise SymlinkError(f"symbolic link {where} -> {os.readlink(part, dir_fd=fd)}: not followed") \
                        from None
                raise
            os.close(fd)
            fd = child
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        opened, fd = fd, -1
        return opened
    finally:
        if fd >= 0:
            os.close(fd)


def _is_link(name: str, dir_fd: int) -> bool:
    try:
        return stat.S_ISLNK(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode)
    except OSError:
        return False


def read_raw(raw_dir: Path, source_file: str, max_bytes: int) -> tuple[RawFile, bytes | None]:
    """The bytes of raw_dir/source_file with their SHA-256 and the stat of what was read; None instead of the
    bytes of a file over max_bytes, which is hashed in pieces and never held in memory. The file is only
    read, and reached without following a symbolic link at any level (open_beneath)."""
    digest = hashlib.sha256()
    size = 0
    kept: list[bytes] | None = []
    with os.fdopen(open_beneath(raw_dir, source_file), "rb") as fh:
        st = os.fstat(fh.fileno())
        while piece := fh.read(1 << 20):
            digest.update(piece)
            size += len(piece)
            if kept is not None:
                kept.append(piece)
                if size > max_bytes:
                    kept = None
    raw = RawFile(source_file, raw_dir / source_file, digest.hexdigest(), size, st.st_mtime_ns, st.st_ino)
    return raw, (b"".join(kept) if kept is not None else None)


def file_sha256(raw_dir: Path, source_file: str) -> str | None:
    """The SHA-256 of a raw file's bytes, read in pieces; None for a symbolic link (at any level) or a file
    that cannot be read."""
    try:
        digest = hashlib.sha256()
        with os.fdopen(open_beneath(raw_dir, source_file), "rb") as fh:
            while piece := fh.read(1 << 20):
                digest.update(piece)
        return digest.hexdigest()
    except OSError:
        return None


def decode_dump(source_file: str, data: bytes) -> DecodedDump:
    """Bytes -> text: UTF-8 (BOM or not), UTF-16 with BOM, then Windows-874/TIS-620 for Thai."""
    if not data.strip():
        return DecodedDump(source_file, None, "empty file")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates: tuple[str, ...] = ("utf-16",)
    elif (utf16 := _bomless_utf16(data)) is not None:
        candidates = (utf16,)
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


def _bomless_utf16(data: bytes) -> str | None:
    """UTF-16 without a byte-order mark: NUL bytes in the text, and one byte order that reads as Thai
    or ASCII text (the other reads as CJK and symbols)."""
    sample = data[:8192]
    if len(sample) < 16 or b"\x00" not in sample:
        return None
    best, best_score = None, 0.0
    for encoding in ("utf-16-le", "utf-16-be"):
        try:
            text = sample[: len(sample) // 2 * 2].decode(encoding)
        except UnicodeDecodeError:
            continue
        plausible = sum(1 for ch in text if "\u0e00" <= ch <= "\u0e7f" or (ch.isascii() and (ch.isprintable()
                                                                                          or ch in "\n\r\t")))
        score = plausible / max(len(text), 1)
        if score > best_score:
            best, best_score = encoding, score
    return best if best_score >= 0.9 else None
