"""Where raw dumps are published: an HTTP(S) folder listing (an HTML page of links, as `python -m http.server`
or nginx autoindex serve it, sub-folders followed) or an S3-compatible bucket prefix. A source lists its
files with what tells a change (ETag, Last-Modified, size) and downloads one, conditionally where the
server can say "not modified". extract/pull.py does the rest (what to fetch, landing, the ledger)."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import BinaryIO, Protocol
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

import httpx

CHUNK = 1 << 16
MAX_FOLDERS = 10_000  # a listing that links folders without end is cut here


class SourceError(RuntimeError):
    """The source cannot be listed (down, refused, not a listing): the pull of this source fails."""


class FetchError(RuntimeError):
    """One file could not be downloaded whole; `retry` says whether trying again may help."""

    def __init__(self, why: str, retry: bool):
        super().__init__(why)
        self.retry = retry


@dataclass(frozen=True)
class Remote:
    """A file as its source lists it. `href` is the raw name the listing gave (checked before use)."""

    path: str  # relative to the source's root, '/'-separated, percent-decoded
    etag: str | None = None
    last_modified: str | None = None
    size: int | None = None
    href: str = ""  # where to fetch it (a URL or an object key)
    refused: str | None = None  # why this name is not taken (outside the source, unsafe)


class Source(Protocol):
    url: str  # as shown in logs and the ledger: no credentials
    name: str  # the folder under the raw dir

    def listing(self) -> Iterator[Remote]: ...

    def fetch(self, remote: Remote, known: Remote | None, into: BinaryIO) -> Remote | None:
        """Write the file into `into` and return its metadata as served, or None when the server says it
        has not changed since `known`. Raises FetchError."""
        ...


def redacted(url: str) -> str:
    """The URL without user:password@ (never printed, logged or stored)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=parts.hostname + (f":{parts.port}" if parts.port else "")
                                     if parts.hostname else parts.netloc))


def default_name(url: str) -> str:
    """A folder name for a source: host (and port) and path for HTTP, bucket and prefix for S3."""
    parts = urlsplit(url)
    raw = (parts.hostname or "") + (f"-{parts.port}" if parts.port else "") + parts.path
    if parts.scheme == "s3":
        raw = parts.netloc + parts.path
    return re.sub(r"[^A-Za-z0-9._-]+", "-", raw).strip("-.") or "source"


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.hrefs += [v for k, v in attrs if k == "href" and v]


class HttpFolder:
    """An HTML page of links; a link that ends with '/' is a sub-folder."""

    def __init__(self, url: str, name: str | None = None, timeout_s: float = 30.0):
        self.base = url if url.endswith("/") else url + "/"
        self.url = redacted(self.base)
        self.name = name or default_name(self.url)
        self.client = httpx.Client(timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 10.0)),
                                   follow_redirects=True, headers={"User-Agent": "schoolnet-pull"})

    def listing(self) -> Iterator[Remote]:
        folders, seen = [self.base], {self.base}
        while folders:
            folder = folders.pop(0)
            for href in self._links(folder):
                target = urljoin(folder, href)
                if target.split("#")[0].split("?")[0] in (folder, "") or "?" in href:
                    continue  # the folder itself, sort links of autoindex pages
                if self.base.startswith(target):
                    continue  # a parent folder: navigation, not content
                if ".." in unquote(href).split("/"):
                    yield Remote(unquote(href), href=target, refused="'..' in the name")
                elif not target.startswith(self.base):
                    yield Remote(unquote(href), href=target, refused="outside the source (another host or "
                                                                     "a folder above it)")
                elif target.endswith("/"):
                    if target not in seen and len(seen) < MAX_FOLDERS:
                        seen.add(target)
                        folders.append(target)
                else:
                    yield Remote(unquote(target[len(self.base):]), href=target)

    def _links(self, folder: str) -> list[str]:
        try:
            response = self.client.get(folder)
        except httpx.HTTPError as exc:
            raise SourceError(f"{redacted(folder)} cannot be listed: {type(exc).__name__}: {exc}") from exc
        if response.status_code >= 400:
            raise SourceError(f"{redacted(folder)} cannot be listed: HTTP {response.status_code}")
        if "html" not in response.headers.get("content-type", "html"):
            raise SourceError(f"{redacted(folder)} is not a folder listing (content-type "
                              f"{response.headers.get('content-type')})")
        parser = _Links()
        parser.feed(response.text)
        return parser.hrefs

    def fetch(self, remote: Remote, known: Remote | None, into: BinaryIO) -> Remote | None:
        headers = {}
        if known and known.etag:
            headers["If-None-Match"] = known.etag
        if known and known.last_modified:
            headers["If-Modified-Since"] = known.last_modified
        try:
            with self.client.stream("GET", remote.href, headers=headers) as response:
                if response.status_code == 304:
                    return None
                if response.status_code >= 500 or response.status_code == 429:
                    raise FetchError(f"HTTP {response.status_code}", retry=True)
                if response.status_code >= 400:
                    raise FetchError(f"HTTP {response.status_code}", retry=False)
                expected = int(response.headers["content-length"]) if "content-length" in response.headers else None
                received = 0
                for chunk in response.iter_bytes(CHUNK):
                    into.write(chunk)
                    received += len(chunk)
        except httpx.TimeoutException as exc:
            raise FetchError(f"timed out ({type(exc).__name__})", retry=True) from exc
        except httpx.RemoteProtocolError as exc:  # the body ended before its Content-Length
            raise FetchError(f"truncated: {exc}", retry=True) from exc
        except httpx.TransportError as exc:  # refused, reset, dropped mid-body
            raise FetchError(f"{type(exc).__name__}: {exc}", retry=True) from exc
        if expected is not None and received != expected:
            raise FetchError(f"truncated: {received} of {expected} bytes", retry=True)
        return Remote(remote.path, response.headers.get("etag"), response.headers.get("last-modified"), received,
                      remote.href)


class S3Prefix:
    """Objects under s3://bucket/prefix/ of an S3-compatible API (credentials: the usual AWS variables)."""

    def __init__(self, url: str, name: str | None = None, endpoint_url: str | None = None, timeout_s: float = 30.0):
        import s3fs  # only a pull from S3 pays for importing it

        parts = urlsplit(url)
        self.bucket, self.prefix = parts.netloc, parts.path.strip("/")
        self.root = f"{self.bucket}/{self.prefix}".rstrip("/")
        self.url = f"s3://{self.root}/"
        self.name = name or default_name(self.url)
        endpoint = endpoint_url or os.environ.get("SCHOOLNET_S3_ENDPOINT_URL") or None
        self.fs = s3fs.S3FileSystem(endpoint_url=endpoint, config_kwargs={
            "connect_timeout": timeout_s, "read_timeout": timeout_s, "retries": {"max_attempts": 1}})

    def listing(self) -> Iterator[Remote]:
        try:
            objects = self.fs.find(self.root, detail=True)
        except Exception as exc:  # noqa: BLE001 - botocore and aiohttp raise many kinds: all mean "cannot list"
            raise SourceError(f"{self.url} cannot be listed: {type(exc).__name__}: {exc}") from exc
        for key, info in sorted(objects.items()):
            if info.get("type") == "directory":
                continue
            relative = key[len(self.root):].lstrip("/")
            modified = info.get("LastModified")
            yield Remote(relative, (info.get("ETag") or "").strip('"') or None,
                         modified.isoformat() if modified is not None else None, info.get("size"), key)

    def fetch(self, remote: Remote, known: Remote | None, into: BinaryIO) -> Remote | None:
        if known and remote.etag and known.etag == remote.etag and known.size == remote.size:
            return None  # the listing already told: no request needed
        received = 0
        try:
            with self.fs.open(remote.href, "rb", block_size=CHUNK * 16) as fh:
                while chunk := fh.read(CHUNK):
                    into.write(chunk)
                    received += len(chunk)
        except FileNotFoundError as exc:
            raise FetchError("gone while listing", retry=False) from exc
        except Exception as exc:  # noqa: BLE001 - timeouts, resets and 5xx surface as many kinds
            raise FetchError(f"{type(exc).__name__}: {exc}", retry=True) from exc
        if remote.size is not None and received != remote.size:
            raise FetchError(f"truncated: {received} of {remote.size} bytes", retry=True)
        return Remote(remote.path, remote.etag, remote.last_modified, received, remote.href)


def open_source(url: str, name: str | None = None, endpoint_url: str | None = None,
                timeout_s: float = 30.0) -> Source:
    """The source a URL names; ValueError for a scheme that is neither."""
    scheme = urlsplit(url).scheme
    if scheme in ("http", "https"):
        return HttpFolder(url, name, timeout_s)
    if scheme == "s3":
        return S3Prefix(url, name, endpoint_url, timeout_s)
    raise ValueError(f"{redacted(url)}: not an http(s):// folder listing or an s3://bucket/prefix/")


@dataclass(frozen=True)
class SourceSpec:
    """A configured source: its URL, and optionally its folder name and S3 endpoint."""

    url: str
    name: str | None = None
    endpoint_url: str | None = None


class SourcesConfigError(ValueError):
    """The sources file or SCHOOLNET_SOURCES is malformed."""


def configured_sources(path: Path, from_env: str | None) -> list[SourceSpec]:
    """The sources of SCHOOLNET_SOURCES (URLs separated by spaces or commas) if it is set, else of the
    sources file ([[source]] tables with url, and optionally name and endpoint_url); none is fine."""
    if from_env is not None:
        return [SourceSpec(u) for u in re.split(r"[\s,]+", from_env) if u]
    if not path.is_file():
        return []
    try:
        spec = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SourcesConfigError(f"{path}: {exc}") from exc
    sources = []
    for i, entry in enumerate(spec.get("source", []), start=1):
        if not isinstance(entry, dict) or not isinstance(entry.get("url"), str):
            raise SourcesConfigError(f"{path}: [[source]] number {i} has no url")
        unknown = set(entry) - {"url", "name", "endpoint_url"}
        if unknown:
            raise SourcesConfigError(f"{path}: [[source]] number {i}: unknown keys {sorted(unknown)}")
        sources.append(SourceSpec(entry["url"], entry.get("name"), entry.get("endpoint_url")))
    names = [s.name or default_name(redacted(s.url)) for s in sources]
    if len(set(names)) != len(names):
        raise SourcesConfigError(f"{path}: two sources land in one folder ({names}): give them names")
    return sources
