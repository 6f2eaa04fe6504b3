"""A source that attacks the pull, on 127.0.0.1: endless or lying bodies, gzip bombs, drips, redirects out of
the source, listings without end, hostile source names and credentials; every attack is bounded or refused,
and a pull stopped midway still accounts for what it landed."""

from __future__ import annotations

import gzip
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from common.settings import Settings
from extract.sources import SourcesConfigError, redacted, split_credentials
from flows.pull import sources_of
from flows.stages import new_run_id, pull
from tests.conftest import REFERENCE

GOOD = b"\xe0\xb8\x97\xe0\xb8\x94\xe0\xb8\xaa\xe0\xb8\xad\xe0\xb8\x9a " * 300  # 'ทดสอบ ' x 300


class Hostile(BaseHTTPRequestHandler):
    """What each path does: a listing, honest files, and the attacks."""

    protocol_version = "HTTP/1.1"
    links: list[str] = []
    written: dict[str, int] = {}  # path -> bytes the server managed to send
    other_port = 0

    def log_message(self, *args: object) -> None:
        pass

    def _send(self, body: bytes, headers: dict[str, str] | None = None, code: int = 200) -> None:
        self.send_response(code)
        for k, v in {"Content-Length": str(len(body)), **(headers or {})}.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802
        path = self.path.split("?")[0]
        if path.endswith("/"):
            body = "".join(f'<a href="{h}">{h}</a>\n' for h in self.links).encode()
            self._send(body, {"Content-Type": "text/html"})
        elif path == "/good.txt":
            self._send(GOOD, {"Content-Type": "text/plain"})
        elif path == "/small.txt.gz-encoded":  # an honest small gzip-encoded answer
            self._send(gzip.compress(GOOD), {"Content-Encoding": "gzip"})
        elif path == "/bomb.txt":  # 1 MB on the wire, 1 GiB decoded
            self._send(_BOMB, {"Content-Encoding": "gzip"})
        elif path == "/huge.txt":  # an honest Content-Length of 5 GB, and the bytes to go with it
            self._endless(5 << 30, announce=True)
        elif path == "/endless.txt":  # no Content-Length: bytes until the client leaves
            self._endless(5 << 30, announce=False)
        elif path == "/drip.txt":  # a byte a second, forever
            self.send_response(200)
            self.send_header("Content-Length", "100000")
            self.end_headers()
            try:
                for _ in range(100000):
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    time.sleep(1)
            except OSError:
                return
        elif path.startswith("/redirect-host"):
            self._send(b"", {"Location": f"http://127.0.0.1:{self.other_port}/good.txt"}, code=302)
        elif path.startswith("/redirect-inside"):
            self._send(b"", {"Location": "/good.txt"}, code=302)
        elif path.startswith("/slow-"):  # for the stopped pull: each file takes a second
            time.sleep(1)
            self._send(GOOD, {"Content-Type": "text/plain"})
        else:
            self._send(b"no", code=404)

    def _endless(self, size: int, announce: bool) -> None:
        self.send_response(200)
        if announce:
            self.send_header("Content-Length", str(size))
        else:
            self.send_header("Connection", "close")
        self.end_headers()
        block = b"x" * (1 << 20)
        sent = 0
        try:
            while sent < size:
                self.wfile.write(block)
                sent += len(block)
        except OSError:
            pass
        Hostile.written[self.path] = sent


_BOMB = gzip.compress(b"\0" * (1 << 30), compresslevel=9)


class _Quiet(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        pass


@pytest.fixture()
def server():
    Hostile.links, Hostile.written = [], {}
    other = _Quiet(("127.0.0.1", 0), Hostile)
    main = _Quiet(("127.0.0.1", 0), Hostile)
    Hostile.other_port = other.server_address[1]
    for s in (other, main):
        threading.Thread(target=s.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{main.server_address[1]}/"
    for s in (other, main):
        s.shutdown()
        s.server_close()


def _settings(tmp_path: Path, **kw) -> Settings:
    options = {"pull_timeout_s": 2, "pull_retries": 1, **kw}
    return Settings.from_env(raw_dir=tmp_path / "raw", warehouse_dir=tmp_path / "wh", reference_dir=REFERENCE,
                             **options)


def _ledger(settings: Settings) -> dict[str, tuple[str, str | None]]:
    files = sorted((settings.warehouse_dir / "_state" / "pull_ledger").glob("run-*.parquet"))
    rows = pq.read_table(files[-1]).to_pylist()
    return {r["remote_path"]: (r["status"], r["error"]) for r in rows}


def _scratch_size(settings: Settings) -> int:
    folder = settings.warehouse_dir / "_state" / "pull-tmp"
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) if folder.exists() else 0


def test_a_body_larger_than_the_limit_is_stopped_while_it_streams(server, tmp_path):
    Hostile.links = ["huge.txt", "endless.txt", "bomb.txt", "small.txt.gz-encoded", "good.txt"]
    settings = _settings(tmp_path, max_file_mb=1)
    started = time.monotonic()
    pull(settings, sources_of(settings, [server]), new_run_id())
    assert time.monotonic() - started < 30
    ledger = _ledger(settings)
    for name in ("huge.txt", "endless.txt", "bomb.txt"):  # the budget is of decoded bytes
        status, error = ledger[name]
        assert status == "refused" and "1 MiB limit" in error, (name, ledger[name])
    assert ledger["good.txt"][0] == "fetched" and ledger["small.txt.gz-encoded"][0] == "fetched"
    landed = {p.name: p.read_bytes() for p in settings.raw_dir.rglob("*") if p.is_file()}
    assert landed["small.txt.gz-encoded"] == GOOD and "huge.txt" not in landed and "bomb.txt" not in landed
    assert Hostile.written.get("/endless.txt", 0) < 64 << 20 and _scratch_size(settings) == 0


def test_a_drip_meets_the_deadline_and_frees_the_warehouse(server, tmp_path):
    Hostile.links = ["drip.txt", "good.txt"]
    settings = _settings(tmp_path, pull_deadline_s=3)
    started = time.monotonic()
    summary = pull(settings, sources_of(settings, [server]), new_run_id())
    assert time.monotonic() - started < 15  # one read at a time never times out: the deadline does
    assert _ledger(settings)["drip.txt"][0] == "failed" and "deadline" in _ledger(settings)["drip.txt"][1]
    assert _ledger(settings)["good.txt"][0] == "fetched" and summary.failed


def test_a_redirect_out_of_the_source_is_refused_once_and_one_inside_followed(server, tmp_path):
    Hostile.links = ["redirect-host.txt", "redirect-inside.txt"]
    settings = _settings(tmp_path, pull_retries=3)
    pull(settings, sources_of(settings, [server]), new_run_id())
    status, error = _ledger(settings)["redirect-host.txt"]
    assert status == "failed" and "outside the source: refused" in error and "attempt 1 of 3" in error
    assert _ledger(settings)["redirect-inside.txt"][0] == "fetched"
    assert not [p for p in settings.raw_dir.rglob("redirect-host*")]


def test_a_listing_without_end_is_capped_and_says_so(server, tmp_path):
    Hostile.links = [f"f{i:06d}.txt" for i in range(100_000)]
    settings = _settings(tmp_path, pull_max_files=5)
    Hostile.links = ["good.txt", *Hostile.links]
    pull(settings, sources_of(settings, [server]), new_run_id())
    ledger = _ledger(settings)
    assert ledger[""][0] == "refused" and "99996 file(s) more than the cap" in ledger[""][1]
    assert len([p for p in settings.raw_dir.rglob("*") if p.is_file()]) <= 5


def test_a_pull_stopped_midway_writes_the_ledger_of_what_landed(server, tmp_path):
    Hostile.links = [f"slow-{i}.txt" for i in range(30)]
    proc = subprocess.Popen([sys.executable, "-m", "schoolnet.cli", "pull", "--source", server, "--raw-dir",
                             str(tmp_path / "raw"), "--warehouse-dir", str(tmp_path / "wh")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "SCHOOLNET_REFERENCE_DIR": str(REFERENCE)})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list((tmp_path / "raw").rglob("slow-*"))) < 3:
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "the pull was stopped" in err
    landed = {p.name for p in (tmp_path / "raw").rglob("slow-*")}
    settings = _settings(tmp_path)
    fetched = {path for path, (status, _) in _ledger(settings).items() if status == "fetched"}
    assert len(landed) >= 3 and landed == fetched  # every file that landed has its ledger row


@pytest.mark.parametrize("name", ["../../x", "/etc/cron.d", "a/b", ".hidden", "", ".."])
def test_a_source_name_that_is_not_one_folder_name_is_refused(tmp_path, name):
    settings = _settings(tmp_path)
    (tmp_path / "sources.toml").write_text(f'[[source]]\nurl = "http://127.0.0.1:9/"\nname = "{name}"\n')
    from extract.sources import SourceSpec

    with pytest.raises(SourcesConfigError, match="source name"):
        pull(settings, [SourceSpec("http://127.0.0.1:9/", name)], new_run_id())
    assert not (tmp_path / "raw").exists() or not any((tmp_path / "raw").rglob("*"))


@pytest.mark.parametrize("secret", ["Zq9x/ss#wo?rd", "s3cr3t@x", "wi7h space", "Qz8%2Fq"])
def test_a_password_never_shows_in_any_form(tmp_path, secret):
    url = f"http://me:{secret}@127.0.0.1:9/dumps/"
    clean, credentials = split_credentials(url)
    assert credentials.password == secret.replace("%2F", "/") and clean == "http://127.0.0.1:9/dumps/"
    assert redacted(url) == "http://127.0.0.1:9/dumps/"
    out = subprocess.run([sys.executable, "-m", "schoolnet.cli", "pull", "--source", url, "--raw-dir",
                          str(tmp_path / "raw"), "--warehouse-dir", str(tmp_path / "wh")], capture_output=True,
                         text=True, env={**os.environ, "SCHOOLNET_REFERENCE_DIR": str(REFERENCE)}, timeout=60)
    assert out.returncode == 1
    shown = out.stdout + out.stderr + "".join(p.read_bytes().decode("utf-8", "replace")
                                              for p in (tmp_path / "wh").rglob("*") if p.is_file())
    for piece in {secret, secret.split("/")[0], secret.split("#")[0], secret[:4]}:
        assert piece not in shown, piece


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not _ipv6_loopback(), reason="no IPv6 loopback on this machine")
def test_an_ipv6_literal_is_a_source(tmp_path):
    class Server6(_Quiet):
        address_family = socket.AF_INET6

    Hostile.links = ["good.txt"]
    server = Server6(("::1", 0), Hostile)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://[::1]:{server.server_address[1]}/"
        settings = _settings(tmp_path)
        summary = pull(settings, sources_of(settings, [url]), new_run_id())
        assert not summary.failed and _ledger(settings)["good.txt"][0] == "fetched"
        assert redacted(f"http://u:p@[::1]:{server.server_address[1]}/x/") == f"http://[::1]:{server.server_address[1]}/x/"
    finally:
        server.shutdown()
        server.server_close()
