"""Where raw dumps are published: an HTTP(S) folder listing (an HTML page of links, as `python -m http.server`
or nginx autoindex serve it, sub-folders followed) or an S3-compatible bucket prefix. A source lists its
files with what tells a change (ETag, Last-Modified, size) and downloads one, conditionally where the
server can say "not modified". extract/pull.py does the rest (what to fetch, landing, the ledger)."""

from __future__ import annotations

import os
import re
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import BinaryIO, Protocol
from urllib.parse import quote, unquote, urljoin, urlsplit, urlunsplit

import httpx

CHUNK = 1 << 16
MAX_FOLDERS = 10_000  # a listing that links folders without end is cut here


class SourceError(RuntimeError):
    """The source cannot be listed (down, refused, not a listing): the pull of this source fails."""


class FetchError(RuntimeError):
    """One file could not be downloaded whole; `retry` says whether trying again may help; `refused`, that the
    source offered what the pull does not take (too large)."""

    def __init__(self, why: str, retry: bool, refused: bool = False):
        super().__init__(why)
        self.retry, self.refused = retry, refused


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
    truncated: int  # files its last listing named beyond the cap of links (not pulled)

    def listing(self) -> Iterator[Remote]: ...

    def fetch(self, remote: Remote, known: Remote | None, into: BinaryIO) -> Remote | None:
        """Write the file into `into` and return its metadata as served, or None when the server says it
        has not changed since `known`. Raises FetchError."""
        ...


@dataclass(frozen=True)
class Credentials:
    user: str
    password: str


def split_credentials(url: str) -> tuple[str, Credentials | None]:
    """(the URL without user:password@, the credentials). A password may hold '/', '#', '?' or '@' unencoded
    ('http://me:pa/ss#1@host/'): the credentials run to the last '@' before the host."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url, None
    userinfo, _, tail = rest.rpartition("@")
    if "/" in tail.split("?")[0].split("#")[0] and ":" not in userinfo:
        return url, None  # an '@' in the path, no credentials before it
    user, _, password = userinfo.partition(":")
    return f"{scheme}://{tail}", Credentials(unquote(user), unquote(password))


def redacted(url: str) -> str:
    """The URL without user:password@ (never printed, logged or stored); an IPv6 host in its brackets."""
    clean, _ = split_credentials(url)
    parts = urlsplit(clean)
    host = parts.hostname
    if not host:
        return clean
    shown = f"[{host}]" if ":" in host else host
    return urlunsplit(parts._replace(netloc=shown + (f":{parts.port}" if parts.port else "")))


def scrubbed(text: str, credentials: Credentials | None) -> str:
    """A message with the password (as given, quoted, or within a URL) replaced by '***'."""
    if credentials is None or not credentials.password:
        return text
    for form in {credentials.password, quote(credentials.password, safe=""), quote(credentials.password)}:
        text = text.replace(form, "***")
    return text


def default_name(url: str) -> str:
    """A folder name for a source: host (and port) and path for HTTP, bucket and prefix for S3."""
    parts = urlsplit(redacted(url))
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


@dataclass(frozen=True)
class Limits:
    """What a source may cost: bytes and seconds per file, seconds and links per listing, redirects."""

    max_bytes: int = 20 << 20  # decoded bytes of one file (a gzip bomb is stopped at this many)
    file_deadline_s: float = 120.0  # a whole download, however the server drips it
    listing_deadline_s: float = 120.0  # a whole listing, its sub-folders included
    max_links: int = 10_000  # files a listing may name; the rest are not pulled (and the ledger says so)
    max_redirects: int = 5


class HttpFolder:
    """An HTML page of links; a link that ends with '/' is a sub-folder. Redirects are followed only to
    addresses under the source's own URL; a download asks for the identity encoding, and is stopped past
    the byte budget (decoded bytes) or the deadline."""

    def __init__(self, url: str, name: str | None = None, timeout_s: float = 30.0, limits: Limits | None = None):
        clean, self.credentials = split_credentials(url)
        self.base = clean if clean.endswith("/") else clean + "/"
        self.url = redacted(self.base)
        self.name = name or default_name(self.url)
        self.limits = limits or Limits()
        auth = (self.credentials.user, self.credentials.password) if self.credentials else None
        self.client = httpx.Client(timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 10.0)),
                                   follow_redirects=False, auth=auth, trust_env=False,
                                   headers={"User-Agent": "schoolnet-pull", "Accept-Encoding": "identity"})
        self.truncated = 0  # links past max_links in the last listing

    def listing(self) -> Iterator[Remote]:
        folders, seen = [self.base], {self.base}
        deadline = time.monotonic() + self.limits.listing_deadline_s
        yielded = 0
        while folders:
            folder = folders.pop(0)
            for href in self._links(folder, deadline):
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
                elif yielded >= self.limits.max_links:
                    self.truncated += 1
                else:
                    yielded += 1
                    yield Remote(unquote(target[len(self.base):]), href=target)

    def _get(self, url: str, headers: dict[str, str] | None = None) -> httpx.Response:
        """A streamed GET, redirects followed by hand and only under the source's URL (the caller closes it)."""
        for _ in range(self.limits.max_redirects + 1):
            response = self.client.send(self.client.build_request("GET", url, headers=headers), stream=True)
            if response.status_code not in (301, 302, 303, 307, 308):
                return response
            target = urljoin(url, response.headers.get("location", ""))
            response.close()
            if not target.startswith(self.base):
                raise FetchError(f"redirected to {redacted(target)}, outside the source: refused", retry=False)
            url = target
        raise FetchError(f"more than {self.limits.max_redirects} redirects", retry=False)

    def _links(self, folder: str, deadline: float) -> list[str]:
        try:
            response = self._get(folder)
            try:
                if response.status_code >= 400:
                    raise SourceError(f"{redacted(folder)} cannot be listed: HTTP {response.status_code}")
                if "html" not in response.headers.get("content-type", "html"):
                    raise SourceError(f"{redacted(folder)} is not a folder listing (content-type "
                                      f"{response.headers.get('content-type')})")
                body = self._body(response, self.limits.max_bytes, deadline, f"the listing {redacted(folder)}")
            finally:
                response.close()
        except FetchError as exc:
            raise SourceError(f"{redacted(folder)} cannot be listed: {exc}") from None
        except httpx.HTTPError as exc:
            why = scrubbed(f"{type(exc).__name__}: {exc}", self.credentials)
            raise SourceError(f"{redacted(folder)} cannot be listed: {why}") from None
        parser = _Links()
        parser.feed(body.decode(response.encoding or "utf-8", errors="replace"))
        return parser.hrefs

    def _body(self, response: httpx.Response, budget: int, deadline: float, what: str,
              into: BinaryIO | None = None) -> bytes:
        """The response's decoded bytes (into `into`, or returned), stopped past `budget` bytes or `deadline`;
        its wire length checked against Content-Length."""
        expected = int(response.headers["content-length"]) if "content-length" in response.headers else None
        if expected is not None and response.headers.get("content-encoding", "identity") == "identity" \
                and expected > budget:
            raise FetchError(f"{expected} bytes announced, over the {budget >> 20} MiB limit", retry=False,
                             refused=True)
        kept: list[bytes] = []
        received = 0
        for chunk in response.iter_bytes():  # whatever arrived: a fixed size would wait for a drip to fill it
            received += len(chunk)
            if received > budget:
                raise FetchError(f"over the {budget >> 20} MiB limit ({received} bytes decoded so far): stopped",
                                 retry=False, refused=True)
            if time.monotonic() > deadline:
                raise FetchError(f"{what} took longer than its deadline: stopped", retry=False)
            (into.write(chunk) if into is not None else kept.append(chunk))
        if expected is not None and response.num_bytes_downloaded != expected:
            raise FetchError(f"truncated: {response.num_bytes_downloaded} of {expected} bytes", retry=True)
        return b"".join(kept)

    def fetch(self, remote: Remote, known: Remote | None, into: BinaryIO) -> Remote | None:
        headers = {}
        if known and known.etag:
            headers["If-None-Match"] = known.etag
        if known and known.last_modified:
            headers["If-Modified-Since"] = known.last_modified
        deadline = time.monotonic() + self.limits.file_deadline_s
        try:
            response = self._get(remote.href, headers)
            try:
                if response.status_code == 304:
                    return None
                if response.status_code >= 500 or response.status_code == 429:
                    raise FetchError(f"HTTP {response.status_code}", retry=True)
                if response.status_code >= 400:
                    raise FetchError(f"HTTP {response.status_code}", retry=False)
                size = into.tell()
                self._body(response, self.limits.max_bytes, deadline, "the download", into)
                received = into.tell() - size
            finally:
                response.close()
        except httpx.TimeoutException as exc:
            raise FetchError(f"timed out ({type(exc).__name__})", retry=True) from exc
        except httpx.RemoteProtocolError as exc:  # the body ended before its Content-Length
            raise FetchError(scrubbed(f"truncated: {exc}", self.credentials), retry=True) from exc
        except httpx.TransportError as exc:  # refused, reset, dropped mid-body
            raise FetchError(scrubbed(f"{type(exc).__name__}: {exc}", self.credentials), retry=True) from exc
        except httpx.DecodingError as exc:
            raise FetchError(f"the body cannot be decoded: {type(exc).__name__}", retry=False) from exc
        return Remote(remote.path, response.headers.get("etag"), response.headers.get("last-modified"), received,
                      remote.href)


class S3Prefix:
    """Objects under s3://bucket/prefix/ of an S3-compatible API (credentials: the usual AWS variables)."""

    def __init__(self, url: str, name: str | None = None, endpoint_url: str | None = None, timeout_s: float = 30.0,
                 limits: Limits | None = None):
        import s3fs  # only a pull from S3 pays for importing it

        self.limits = limits or Limits()
        self.truncated = 0

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
        taken = 0
        for key, info in sorted(objects.items()):
            if info.get("type") == "directory":
                continue
            if taken >= self.limits.max_links:
                self.truncated += 1
                continue
            taken += 1
            relative = key[len(self.root):].lstrip("/")
            modified = info.get("LastModified")
            yield Remote(relative, (info.get("ETag") or "").strip('"') or None,
                         modified.isoformat() if modified is not None else None, info.get("size"), key)

    def fetch(self, remote: Remote, known: Remote | None, into: BinaryIO) -> Remote | None:
        if known and remote.etag and known.etag == remote.etag and known.size == remote.size:
            return None  # the listing already told: no request needed
        received = 0
        deadline = time.monotonic() + self.limits.file_deadline_s
        try:
            with self.fs.open(remote.href, "rb", block_size=CHUNK * 16) as fh:
                while chunk := fh.read(CHUNK):
                    received += len(chunk)
                    if received > self.limits.max_bytes:
                        raise FetchError(f"over the {self.limits.max_bytes >> 20} MiB limit: stopped", retry=False,
                                         refused=True)
                    if time.monotonic() > deadline:
                        raise FetchError("the download took longer than its deadline: stopped", retry=False)
                    into.write(chunk)
        except FetchError:
            raise
        except FileNotFoundError as exc:
            raise FetchError("gone while listing", retry=False) from exc
        except Exception as exc:  # noqa: BLE001 - timeouts, resets and 5xx surface as many kinds
            raise FetchError(f"{type(exc).__name__}: {exc}", retry=True) from exc
        if remote.size is not None and received != remote.size:
            raise FetchError(f"truncated: {received} of {remote.size} bytes", retry=True)
        return Remote(remote.path, remote.etag, remote.last_modified, received, remote.href)


def open_source(url: str, name: str | None = None, endpoint_url: str | None = None,
                timeout_s: float = 30.0, limits: Limits | None = None) -> Source:
    """The source a URL names; ValueError for a scheme that is neither, or a name that is no folder name."""
    if name is not None and (why := unsafe_source_name(name)):
        raise SourcesConfigError(f"source name {name!r} of {redacted(url)}: {why}")
    scheme = url.partition("://")[0].lower()
    if scheme in ("http", "https"):
        return HttpFolder(url, name, timeout_s, limits)
    if scheme == "s3":
        return S3Prefix(url, name, endpoint_url, timeout_s, limits)
    raise ValueError(f"{redacted(url)}: not an http(s):// folder listing or an s3://bucket/prefix/")


def unsafe_source_name(name: str) -> str | None:
    """Why a source's name cannot be its folder under the raw dir (it must be one plain folder name)."""
    if not name or name in (".", "..") or name.startswith("."):
        return "empty, '.', '..' or hidden"
    if "/" in name or "\\" in name or (len(name) > 1 and name[1] == ":"):
        return "a path, not one folder name"
    if any(ord(ch) < 32 or ch == "\x7f" for ch in name):
        return "control characters in the name"
    if len(name.encode()) > 200:
        return "over 200 bytes"
    return None


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
