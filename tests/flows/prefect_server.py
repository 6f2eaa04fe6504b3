"""A real Prefect server for the tests (`prefect server start`, every service on, the scheduler included),
started once per session on 127.0.0.1 in a temporary PREFECT_HOME, with the settings operators use
(deploy/prefect.env: CORS limited to the UI's origin, CSRF on) except the address and home, and closed by an
auth string generated the way `schoolnet server` generates it (in the temporary home)."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from schoolnet.prefect_env import DEFAULT_ENV_FILE, ensure_auth_file, read_auth_file, read_env_file

BIN = Path(sys.executable).parent
_LOG_ENTRY = re.compile(r"^\d\d:\d\d:\d\d\.\d+ \| ")  # a new entry of the server's log (its time)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class PrefectServer:
    url: str
    home: Path
    log: Path
    env: dict[str, str]
    process: subprocess.Popen

    @property
    def auth(self) -> tuple[str, str]:
        user, _, password = self.env["PREFECT_API_AUTH_STRING"].partition(":")
        return user, password

    @property
    def ui_origin(self) -> str:
        return self.url.removesuffix("/api")

    def log_errors(self) -> list[str]:
        """The first line of each entry of the server's log at ERROR level or with a traceback, except the
        server's own SQLite race (an entry ending in `database is locked`: a deferred transaction of Prefect's
        that SQLite refuses to upgrade to a write, without waiting; PrefectHQ/prefect#17473, #10188): it met
        a child run's cancellation once in CI, while every outcome the tests check was right."""
        entries: list[list[str]] = []
        for line in self.log.read_text(encoding="utf-8", errors="replace").splitlines():
            if _LOG_ENTRY.match(line) or not entries:
                entries.append([line])
            else:
                entries[-1].append(line)
        return [entry[0] for entry in entries
                if any("| ERROR" in ln or " ERROR " in ln or "Traceback" in ln for ln in entry)
                and not any("sqlite3.OperationalError) database is locked" in ln for ln in entry)]

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_server(home: Path, timeout_s: float = 120) -> PrefectServer:
    port = free_port()
    url = f"http://127.0.0.1:{port}/api"
    auth = read_auth_file(ensure_auth_file(home / "prefect-auth.env"))
    env = {**os.environ, **read_env_file(DEFAULT_ENV_FILE), **auth, "PREFECT_HOME": str(home), "PREFECT_API_URL": url,
           "PREFECT_SERVER_API_HOST": "127.0.0.1", "PREFECT_SERVER_API_PORT": str(port),
           "PREFECT_SERVER_API_CORS_ALLOWED_ORIGINS": f"http://127.0.0.1:{port}",
           "SCHOOLNET_PREFECT_AUTH_FILE": str(home / "prefect-auth.env"),
           "PREFECT_LOGGING_LEVEL": "INFO"}  # as operators see it (the test session itself runs at WARNING)
    log = home / "server.log"
    with log.open("wb") as fh:
        process = subprocess.Popen([str(BIN / "prefect"), "server", "start"], env=env, stdout=fh,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"prefect server exited {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:  # the one path open to anyone
                return PrefectServer(url, home, log, env, process)
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    process.kill()
    raise RuntimeError(f"prefect server did not answer within {timeout_s} s:\n{log.read_text()[-3000:]}")


def run_async(coroutine):  # a small bridge for the tests
    return asyncio.run(coroutine)
