"""Real servers on 127.0.0.1 for the pull tests: the standard library's HTTP file server with faults that can
be injected per path (5xx, a slow answer, a body cut short, a slow drip), ETags, and a record of every
request; and moto's S3 API server."""

from __future__ import annotations

import hashlib
import threading
import time
from collections import Counter, defaultdict
from contextlib import contextmanager
from email.utils import formatdate
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit


class FaultyFiles(SimpleHTTPRequestHandler):
    """Serves a folder like `python -m http.server` (listings and If-Modified-Since included), plus ETags
    and If-None-Match, plus faults: faults[path] is a list of what the next requests of that path meet."""

    faults: dict[str, list[str]] = defaultdict(list)
    requests: Counter = Counter()  # (method, path, status)
    extra_links: list[str] = []  # hrefs added to the listing of listing_path (hostile names)
    listing_path = "/"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass

    def send_response(self, code: int, message: str | None = None) -> None:
        self.requests[(self.command, unquote(urlsplit(self.path).path), code)] += 1
        super().send_response(code, message)

    def do_GET(self) -> None:  # noqa: N802 - the base class's name
        path = unquote(urlsplit(self.path).path)
        if path == self.listing_path and self.extra_links:
            self._listing_with_extra_links(Path(self.translate_path(self.path)))
            return
        fault = self.faults[path].pop(0) if self.faults.get(path) else None
        if fault == "500":
            self.send_error(500, "injected")
            return
        if fault and fault.startswith("slow:"):
            time.sleep(float(fault.split(":")[1]))
        file = Path(self.translate_path(self.path))
        if file.is_file() and fault in ("truncate", "drip"):
            self._faulty_body(file, fault)
            return
        if file.is_file():
            etag = '"' + hashlib.md5(file.read_bytes()).hexdigest() + '"'
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return
            self._etag = etag
        super().do_GET()

    def end_headers(self) -> None:
        if getattr(self, "_etag", None):
            self.send_header("ETag", self._etag)
            self._etag = None
        super().end_headers()

    def _listing_with_extra_links(self, folder: Path) -> None:
        names = sorted(p.name + ("/" if p.is_dir() else "") for p in folder.iterdir())
        links = [quote(n) for n in names] + self.extra_links
        body = ("<html><body><ul>" + "".join(f'<li><a href="{h}">{h}</a></li>' for h in links)
                + "</ul></body></html>").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _faulty_body(self, file: Path, fault: str) -> None:
        data = file.read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Last-Modified", formatdate(file.stat().st_mtime, usegmt=True))
        self.end_headers()
        if fault == "truncate":
            self.wfile.write(data[: len(data) // 2])
        else:  # drip: a slow download, long enough to be killed in the middle
            for i in range(0, len(data), 512):
                self.wfile.write(data[i:i + 512])
                self.wfile.flush()
                time.sleep(0.05)
        self.close_connection = True


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:  # a client that hangs up is a test
        pass


@contextmanager
def http_server(folder: Path):
    FaultyFiles.faults.clear()
    FaultyFiles.requests.clear()
    FaultyFiles.extra_links = []
    FaultyFiles.listing_path = "/"
    server = _QuietServer(("127.0.0.1", 0), partial(FaultyFiles, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def s3_server():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()
