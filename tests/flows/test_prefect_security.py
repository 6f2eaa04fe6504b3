"""The Prefect API as an attacker meets it, on the real server of the session (deploy/prefect.env's settings, an
auth string generated the way `schoolnet server` does): nobody without the auth string gets in, no other web page
may call it (a real Chromium tries), a forged POST has no CSRF token, the auth file is the operator's alone, and
a run created through the API cannot name folders outside the ones served. A pull that fails ends the nightly
run Failed with one message, no traceback."""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from schoolnet.prefect_env import ensure_auth_file, read_auth_file
from tests.conftest import SAMPLE_RAW
from tests.flows.prefect_server import BIN, PrefectServer, run_async
from tests.flows.test_nightly_schedule import Serve, _artifacts, _clean_stop_output, wait_until

pytestmark = pytest.mark.flow


def _token(server: PrefectServer, client: str = "test") -> dict[str, str]:
    answer = httpx.get(f"{server.url}/csrf-token", params={"client": client}, auth=server.auth)
    answer.raise_for_status()
    return {"Prefect-Csrf-Token": answer.json()["token"], "Prefect-Csrf-Client": client}


def _flow_runs(server: PrefectServer) -> int:
    answer = httpx.post(f"{server.url}/flow_runs/count", json={}, auth=server.auth, headers=_token(server))
    answer.raise_for_status()
    return answer.json()


def test_nobody_without_the_auth_string_gets_in(prefect_server):
    url = prefect_server.url
    assert httpx.get(f"{url}/health").status_code == 200  # the one probe open to anyone
    for auth in (None, ("schoolnet", "guess"), ("admin", "admin")):
        assert httpx.get(f"{url}/admin/version", auth=auth).status_code == 401
        assert httpx.get(f"{url}/csrf-token", params={"client": "x"}, auth=auth).status_code == 401
        for path in ("/flow_runs/filter", "/artifacts/filter", "/deployments/filter"):
            assert httpx.post(f"{url}{path}", json={}, auth=auth).status_code in (401, 403)
    assert httpx.get(f"{url}/admin/version", auth=prefect_server.auth).status_code == 200
    settings = httpx.get(f"{prefect_server.ui_origin}/ui-settings").json()
    assert settings["auth"] == "BASIC" and settings["csrf_enabled"] is True  # the UI asks for it too


def test_a_post_without_a_csrf_token_is_refused_even_with_the_auth_string(prefect_server):
    url = prefect_server.url
    forged = httpx.post(f"{url}/flow_runs/filter", json={}, auth=prefect_server.auth,
                        headers={"Origin": "http://evil.example"})
    assert forged.status_code == 403 and "CSRF" in forged.text
    assert httpx.post(f"{url}/flow_runs/filter", json={}, auth=prefect_server.auth,
                      headers=_token(prefect_server)).status_code == 200


def test_cors_answers_the_uis_own_origin_only(prefect_server):
    url = prefect_server.url
    ask = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type"}
    evil = httpx.options(f"{url}/flow_runs/", headers={"Origin": "http://evil.example", **ask})
    assert "access-control-allow-origin" not in evil.headers and evil.status_code >= 400
    own = httpx.options(f"{url}/flow_runs/", headers={"Origin": prefect_server.ui_origin, **ask})
    assert own.headers.get("access-control-allow-origin") == prefect_server.ui_origin
    simple = httpx.post(f"{url}/flow_runs/filter", json={}, headers={"Origin": "http://evil.example"})
    assert simple.headers.get("access-control-allow-origin") in (None, prefect_server.ui_origin)


class _Evil(BaseHTTPRequestHandler):
    page = b""

    def do_GET(self) -> None:  # noqa: N802
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(self.page)))
        self.end_headers()
        self.wfile.write(self.page)

    def log_message(self, *args: object) -> None:
        pass


def test_a_web_page_elsewhere_cannot_create_a_run_in_a_real_browser(prefect_server):
    """A page of another origin (a local server on another port: what any web site is to the browser) tries what
    the issue's attack did, a POST creating a flow run, with and without the auth string (as if it had leaked)."""
    from tests.load.test_report_in_browser import _browser_or_skip

    browser_path = _browser_or_skip()
    from playwright.sync_api import sync_playwright

    user, password = prefect_server.auth
    body = json.dumps({"name": "from-evil", "flow_id": "00000000-0000-0000-0000-000000000000"})
    _Evil.page = f"""<html><body><pre id="out">pending</pre><script>
      const api = {json.dumps(prefect_server.url)}, out = [];
      const tries = [
        {{method: 'POST', headers: {{'Content-Type': 'application/json'}}, body: {json.dumps(body)}}},
        {{method: 'POST', headers: {{'Content-Type': 'application/json', 'Authorization':
          'Basic ' + btoa({json.dumps(f"{user}:{password}")})}}, body: {json.dumps(body)}}},
        {{method: 'POST', mode: 'no-cors', body: {json.dumps(body)}}},
      ];
      (async () => {{
        for (const t of tries) {{
          try {{ const r = await fetch(api + '/flow_runs/', t); out.push(r.type + ':' + r.status); }}
          catch (e) {{ out.push('blocked:' + e.name); }}
        }}
        document.getElementById('out').textContent = out.join(' ');
      }})();
    </script></body></html>""".encode()
    site = ThreadingHTTPServer(("127.0.0.1", 0), _Evil)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    before = _flow_runs(prefect_server)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=browser_path, args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{site.server_address[1]}/evil.html")
            page.wait_for_function("document.getElementById('out').textContent !== 'pending'", timeout=30000)
            seen = page.inner_text("#out").split()
            browser.close()
    finally:
        site.shutdown()
        site.server_close()
    assert seen[:2] == ["blocked:TypeError", "blocked:TypeError"], seen  # CORS: the browser refused to send it
    assert seen[2] == "opaque:0", seen  # sent blind, without auth or token: refused by the server (unread)
    assert _flow_runs(prefect_server) == before


def test_the_auth_file_is_the_operators_alone(tmp_path, prefect_server):
    path = ensure_auth_file(tmp_path / "deploy" / "prefect-auth.env")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    first = read_auth_file(path)
    assert ensure_auth_file(path) == path and read_auth_file(path) == first  # kept, not regenerated
    assert first["PREFECT_API_AUTH_STRING"] == first["PREFECT_SERVER_API_AUTH_STRING"]
    assert len(first["PREFECT_API_AUTH_STRING"].partition(":")[2]) >= 40
    path.chmod(0o644)
    env = {k: v for k, v in prefect_server.env.items() if k not in ("PREFECT_API_AUTH_STRING",
                                                                     "PREFECT_SERVER_API_AUTH_STRING")}
    env["SCHOOLNET_PREFECT_AUTH_FILE"] = str(path)
    out = subprocess.run([str(BIN / "schoolnet"), "trigger"], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "chmod 600" in out.stderr and out.stderr.count("\n") == 1, out.stderr
    assert first["PREFECT_API_AUTH_STRING"].partition(":")[2] not in out.stdout + out.stderr
    (tmp_path / "none").mkdir()
    env["SCHOOLNET_PREFECT_AUTH_FILE"] = str(tmp_path / "none" / "prefect-auth.env")
    out = subprocess.run([str(BIN / "schoolnet"), "trigger"], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "asks for an auth string" in out.stderr, out.stderr


async def _create_run(deployment_id, parameters):
    from prefect.client.orchestration import get_client

    async with get_client() as client:
        return await client.create_flow_run_from_deployment(deployment_id, parameters=parameters)


async def _read_run(run_id):
    from prefect.client.orchestration import get_client

    async with get_client() as client:
        return await client.read_flow_run(run_id)


def _final(run_id, timeout_s: float = 180):
    return wait_until("the run to end", lambda: (r := run_async(_read_run(run_id))).state.is_final() and r, timeout_s)


def test_a_run_created_through_the_api_stays_in_the_served_folders_and_a_failed_pull_is_one_message(
        prefect_server, tmp_path):
    raw, warehouse = tmp_path / "raw", tmp_path / "wh"
    shutil.copytree(SAMPLE_RAW, raw)
    private, victim = tmp_path / "private", tmp_path / "victim"
    private.mkdir()
    (private / "salaries-2569.txt").write_text("confidential", encoding="utf-8")
    victim.mkdir()
    (victim / "thesis").mkdir()
    (victim / "thesis" / "chapter1.txt").write_text("years of work", encoding="utf-8")
    serve = Serve(prefect_server, raw, warehouse, tmp_path / "serve.log", env={"SCHOOLNET_SOURCES": "http://127.0.0.1:9/"})
    try:
        deployment = serve.serving()
        attack = run_async(_create_run(deployment.id, {"raw_dir": str(private), "warehouse_dir": str(victim),
                                                       "pull": False}))
        done = _final(attack.id)
        assert done.state.is_failed() and "outside the folders this deployment may use" in done.state.message
        assert sorted(str(p.relative_to(victim)) for p in victim.rglob("*")) == ["thesis", "thesis/chapter1.txt"]
        assert not any(p.is_symlink() for p in victim.rglob("*"))
        shown = json.dumps([a.data for a in run_async(_artifacts(done.id))])
        assert "salaries" not in shown
        dotdot = run_async(_create_run(deployment.id, {"raw_dir": str(raw / ".." / "private"), "pull": False}))
        assert "outside the folders" in _final(dotdot.id).state.message

        nightly = run_async(_create_run(deployment.id, {}))  # the nightly's own parameters: pull first
        done = _final(nightly.id)
        assert done.state.is_failed() and "the pull failed" in done.state.message, done.state
        assert "the ETL ran on what had landed" in done.state.message
        assert (warehouse / "current").exists()
    finally:
        assert serve.stop(signal.SIGTERM) == 0
    output = serve.output()
    _clean_stop_output(output)
    assert "TypeError" not in output and "Unexpected result" not in output
    assert os.environ.get("PREFECT_API_AUTH_STRING", "").partition(":")[2] not in output
