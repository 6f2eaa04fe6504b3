"""The run's report as a person meets it: headless Chromium (Debian's) opens report/index.html with the
network cut off; no console error, every chart drew, Thai text is drawn in a Thai font (not tofu). The
screenshot is kept in test-artifacts/report.png."""

from __future__ import annotations

import io
import shutil
import subprocess
import warnings
from pathlib import Path

import pytest

from common.settings import PROJECT_ROOT, Settings
from flows.stages import run_once
from tests.conftest import REFERENCE, SAMPLE_RAW, SEEDS

ARTIFACTS = PROJECT_ROOT / "test-artifacts"
BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")


def _browser_or_skip() -> str:
    if BROWSER is None:
        message = ("NO BROWSER: the report was not opened in Chromium. Install it (apt-get install chromium "
                   "fonts-thai-tlwg; .ci/run does) to run this test.")
        warnings.warn(message, stacklevel=2)
        pytest.skip(message)
    pytest.importorskip("playwright", reason="playwright (Python) drives the browser: pip install -e '.[dev]'")
    return BROWSER


def _thai_fonts() -> set[str]:
    out = subprocess.run(["fc-list", ":lang=th", "family"], capture_output=True, text=True)
    return {name.strip() for line in out.stdout.splitlines() for name in line.split(",") if name.strip()}


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    raw = tmp_path_factory.mktemp("raw")
    for p in (*(SEEDS.glob("*.txt") if SEEDS.is_dir() else ()), *SAMPLE_RAW.glob("*.txt")):
        shutil.copy(p, raw / p.name)
    wh = tmp_path_factory.mktemp("wh")
    run_once(Settings.from_env(raw_dir=raw, warehouse_dir=wh, reference_dir=REFERENCE))
    return wh / "report" / "index.html"


def test_the_report_opens_offline_with_its_charts_and_thai_text(report):
    from PIL import Image
    from playwright.sync_api import sync_playwright

    browser_path = _browser_or_skip()
    errors: list[str] = []
    outside: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=browser_path, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--no-first-run", "--disable-sync"])
        context = browser.new_context(offline=True, viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:")
                   else (outside.append(route.request.url), route.abort()))
        page.goto(report.as_uri())
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
        charts = page.locator(".chart svg")
        assert charts.count() >= 4
        for i in range(charts.count()):
            image = Image.open(io.BytesIO(charts.nth(i).screenshot())).convert("L")
            inked = sum(image.histogram()[:200]) / (image.width * image.height)
            assert inked > 0.01, f"chart {i} looks blank ({inked:.2%} of its pixels drawn)"
        fonts = _platform_fonts(page, ["h1", "h2", "th", ".chart svg text"])
        budget, progress, timeline = (page.locator(f"#{a} .chart").all_inner_texts() for a in
                                      ("budget", "progress", "timeline"))
        dashed = page.locator("#progress svg path[stroke-dasharray]").count()
        browser.close()
    # every district with a project is in the budget chart, dump 002's web page (no budget) included; the
    # diagonal of the progress chart is drawn; months are labelled in the Buddhist Era
    assert "บางขุนเทียน" in " ".join(budget) and dashed >= 1 and progress
    assert any(f" {year}" in " ".join(timeline) for year in range(2560, 2570)), timeline
    assert errors == [] and outside == []
    thai = _thai_fonts()
    assert any(key.startswith(".chart") for key in fonts) and any(key.startswith("h2") for key in fonts)
    assert all(used & thai for used in fonts.values()), (fonts, thai)  # tofu: no Thai font drew the node


def _platform_fonts(page, selectors: list[str]) -> dict[str, set[str]]:  # a playwright Page
    """The fonts Chromium drew each Thai text node with (DevTools' CSS.getPlatformFontsForNode)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
    used: dict[str, set[str]] = {}
    for selector in selectors:
        for node in cdp.send("DOM.querySelectorAll", {"nodeId": root, "selector": selector})["nodeIds"]:
            text = cdp.send("DOM.getOuterHTML", {"nodeId": node})["outerHTML"]
            if not any("\u0e00" <= ch <= "\u0e7f" for ch in text):
                continue
            fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
            used[f"{selector}#{node}"] = {f["familyName"] for f in fonts if f["glyphCount"] > 0}
    return used


def test_a_long_list_is_whole_on_a_page_of_its_own(tmp_path):
    """index.html shows the first rows of a long list and links the page that has every row."""
    import pandas as pd

    from load.report import BEHIND_PLAN_PAGE, TABLE_ROWS, Section, _rows_html, _table, write_html

    df = pd.DataFrame({"project": [f"p{i}" for i in range(TABLE_ROWS + 7)], "score": [None] * (TABLE_ROWS + 7)})
    body = _table(df, "none", BEHIND_PLAN_PAGE)
    assert body.count("<tr>") == TABLE_ROWS + 1 and f"href='{BEHIND_PLAN_PAGE}'" in body and "7 more rows" in body
    assert "<td>—</td>" in body  # a missing score is a dash, never 0.0
    from datetime import datetime

    write_html(tmp_path, [Section("behind", "ท", "t", "", body, ((BEHIND_PLAN_PAGE, _rows_html(df)),))], "r",
               datetime(2026, 12, 1))
    whole = (tmp_path / "report" / BEHIND_PLAN_PAGE).read_text(encoding="utf-8")
    assert whole.count("<tr>") == TABLE_ROWS + 8 and "p36" in whole and "index.html" in whole
