"""The Prefect side of operating schoolnet: one settings file (deploy/prefect.env), an API that must
answer before serve registers anything, and a Prefect server that `serve --with-server` starts itself.

Without PREFECT_API_URL, any Prefect client silently starts a temporary server of its own, which dies
with the process: a deployment served that way is never seen by anyone. `serve` and `trigger` therefore
read deploy/prefect.env and refuse to go on when no API answers at its address.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from common.settings import PROJECT_ROOT

DEFAULT_ENV_FILE = PROJECT_ROOT / "deploy" / "prefect.env"
PATH_SETTINGS = ("PREFECT_HOME",)  # relative values are relative to the repo root
SERVER_START_TIMEOUT_S = 90


class PrefectEnvError(RuntimeError):
    """The Prefect settings are unusable, or no API answers."""


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines ('#' starts a comment line); a malformed line is an error with its number."""
    values: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        key, sep, value = text.partition("=")
        if not sep or not key.strip().isidentifier():
            raise PrefectEnvError(f"{path}:{number}: not a KEY=VALUE line: {line!r}")
        values[key.strip()] = value.strip()
    return values


def load_prefect_env(path: Path | None = None) -> dict[str, str]:
    """Put the file's settings into os.environ where they are not set already; returns what was applied.

    The file is SCHOOLNET_PREFECT_ENV, else deploy/prefect.env; call this before Prefect is imported."""
    path = path or Path(os.environ.get("SCHOOLNET_PREFECT_ENV") or DEFAULT_ENV_FILE)
    if not path.is_file():
        raise PrefectEnvError(f"Prefect settings file {path} not found (SCHOOLNET_PREFECT_ENV names another)")
    applied = {}
    for key, value in read_env_file(path).items():
        if key in PATH_SETTINGS and value and not Path(value).expanduser().is_absolute():
            value = str(PROJECT_ROOT / value)
        if key not in os.environ:
            os.environ[key] = applied[key] = value
    return applied


def api_url() -> str:
    url = os.environ.get("PREFECT_API_URL", "").rstrip("/")
    if not url:
        raise PrefectEnvError("PREFECT_API_URL is not set (deploy/prefect.env sets it)")
    return url


def api_answers(url: str, timeout: float = 3.0) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def require_api() -> str:
    """The API's URL when it answers; otherwise one clear error."""
    url = api_url()
    if not api_answers(url):
        raise PrefectEnvError(
            f"no Prefect API answers at {url}: start it (`make serve` starts it with the deployment; or "
            "`.venv/bin/prefect server start` with deploy/prefect.env loaded, see docs/systemd/), or run "
            "`schoolnet serve --with-server`")
    return url


@contextmanager
def prefect_server() -> Iterator[str]:
    """The API at PREFECT_API_URL: the one already answering, or a `prefect server start` child process,
    started here (its log in $PREFECT_HOME/server.log) and stopped when the block ends."""
    url = api_url()
    if api_answers(url):
        print(f"schoolnet: using the Prefect API already running at {url}", file=sys.stderr)
        yield url
        return
    home = Path(os.environ.get("PREFECT_HOME") or Path.home() / ".prefect")
    home.mkdir(parents=True, exist_ok=True)
    log_path = home / "server.log"
    prefect = shutil.which("prefect", path=str(Path(sys.executable).parent)) or "prefect"
    with log_path.open("ab") as log:
        server = subprocess.Popen([prefect, "server", "start"], stdout=log, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        _wait_for(url, server, log_path)
        print(f"schoolnet: started the Prefect API at {url} (UI: {url.removesuffix('/api')}, log: {log_path})",
              file=sys.stderr)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _wait_for(url: str, server: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise PrefectEnvError(f"the Prefect server exited with code {server.returncode}: see {log_path}")
        if api_answers(url, timeout=1.0):
            return
        time.sleep(0.5)
    raise PrefectEnvError(f"the Prefect server did not answer at {url} within {SERVER_START_TIMEOUT_S} s: "
                          f"see {log_path}")
