"""The run's report for people: report/index.html, one self-contained file (charts as inline SVG, no script, no
network) in Thai and English, built from the version a run publishes.

Charts are altair specifications rendered to SVG by vl-convert (which bundles Vega: nothing is fetched);
their text is drawn by the reader's browser in THAI_FONTS. The numbers come from DuckDB aggregates of the
warehouse, as pandas DataFrames, so the report costs the same whatever the corpus size (a few queries and
six small charts)."""

from __future__ import annotations

import html
import os
import threading
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import altair as alt
import duckdb
import pandas as pd

from load.chart_engine import ChartEngine
from load.duck import literal

REPORT_DIR = "report"
THAI_FONTS = "'Noto Sans Thai', 'Sarabun', 'Loma', 'Garuda', 'Tlwg Typo', 'Norasi', sans-serif"
TABLE_ROWS = 30  # rows shown of a long list in index.html; every row is on the list's own page beside it
CHART_WIDTH = 560
FISCAL_YEAR_TITLE = "ปีงบประมาณ (พ.ศ.) · fiscal year (BE)"
NO_BUDGET_GREY = "#dddddd"
BEHIND_PLAN_PAGE = "behind_plan.html"  # every project behind plan (index.html shows the first TABLE_ROWS)
# a temporal axis labelled in the Buddhist Era, as Thai reports print months ('ต.ค. 2563'): Vega computes it
_MONTHS_TH = "['ม.ค.','ก.พ.','มี.ค.','เม.ย.','พ.ค.','มิ.ย.','ก.ค.','ส.ค.','ก.ย.','ต.ค.','พ.ย.','ธ.ค.']"
BE_MONTH_LABEL = f"{_MONTHS_TH}[month(datum.value)] + ' ' + (year(datum.value) + 543)"


@dataclass(frozen=True)
class Section:
    anchor: str
    title_th: str
    title_en: str
    note: str
    body: str  # HTML: an inline SVG chart, a table, or a sentence
    pages: tuple[tuple[str, str], ...] = ()  # (file name, HTML body): a long list whole, beside index.html


def start_engine() -> None:
    """Start the chart engine, a child process (load/chart_engine.py), unless it runs already."""
    ChartEngine.start()


def _svg(chart: alt.Chart) -> str:
    return ChartEngine.svg(chart.configure(font=THAI_FONTS).configure_view(stroke=None).to_dict())


def _table(df: pd.DataFrame, empty: str, whole: str | None = None) -> str:
    """The first TABLE_ROWS rows; the rest on the page `whole` (every row: report/<whole>), linked."""
    if df.empty:
        return f"<p class='empty'>{html.escape(empty)}</p>"
    more = ""
    if len(df) > TABLE_ROWS:
        rest = f"{len(df) - TABLE_ROWS} more rows / อีก {len(df) - TABLE_ROWS} แถว"
        more = f"<p class='more'>{rest}" + (f": <a href='{html.escape(whole)}'>all {len(df)} rows / ทั้งหมด</a>"
                                            if whole else "") + "</p>"
    return _rows_html(df.head(TABLE_ROWS)) + more


def _rows_html(df: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    rows = "".join("<tr>" + "".join(f"<td>{'—' if pd.isna(v) else html.escape(str(v))}</td>" for v in row) + "</tr>"
                   for row in df.itertuples(index=False))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def _frame(con: duckdb.DuckDBPyConnection, sql: str) -> pd.DataFrame:
    return con.execute(sql).df()


def budget_by_district_and_year(con: duckdb.DuckDBPyConnection) -> Section:
    """Every district office (and department) with a project, whether or not its documents print a budget (a
    district whose only project is a web page has no budget to show, but is shown)."""
    df = _frame(con, """
        SELECT p.fiscal_year AS year, coalesce(d.name_th, a.name_printed_th, a.name_th, 'ไม่ทราบหน่วยงาน') AS district,
               count(*)::INT AS projects, sum(p.budget_thb)::DOUBLE AS budget,
               coalesce(sum(f.disbursed), 0)::DOUBLE AS disbursed
        FROM dim_project p LEFT JOIN dim_district d USING (district_id) LEFT JOIN dim_agency a USING (agency_code)
        LEFT JOIN (SELECT project_key, sum(disbursed_thb) AS disbursed FROM fact_disbursement GROUP BY 1) f
            USING (project_key)
        WHERE p.fiscal_year IS NOT NULL GROUP BY ALL""")
    if df.empty:
        return Section("budget", "งบประมาณและการเบิกจ่าย", "Budget and disbursement", "", _table(df, "no project yet"))
    df["burn"] = (100 * df["disbursed"] / df["budget"].where(df["budget"] > 0)).round(1)
    totals = df.groupby("year", as_index=False)[["budget", "disbursed"]].sum().rename(
        columns={"budget": "งบประมาณ · budget", "disbursed": "เบิกจ่าย · disbursed"}).melt(
        "year", var_name="measure", value_name="thb")
    bars = alt.Chart(totals).mark_bar().encode(
        x=alt.X("year:O", title=FISCAL_YEAR_TITLE), xOffset="measure:N",
        y=alt.Y("thb:Q", title="บาท · THB"),
        color=alt.Color("measure:N", title=None, legend=alt.Legend(orient="top"))).properties(width=CHART_WIDTH)
    heat = alt.Chart(df).mark_rect(invalid=None).encode(  # a row without a budget is drawn grey, not dropped
        x=alt.X("year:O", title=FISCAL_YEAR_TITLE),
        y=alt.Y("district:N", title="เขต / สำนัก · district office or department", sort="ascending"),
        color=alt.condition("isValid(datum.burn)", alt.Color("burn:Q", title="เบิกจ่าย % · burn %",
                                                             scale=alt.Scale(domain=[0, 100])),
                            alt.value(NO_BUDGET_GREY)),
        tooltip=["district:N", "year:O", "projects:Q", "budget:Q", "burn:Q"]).properties(width=CHART_WIDTH)
    return Section("budget", "งบประมาณและการเบิกจ่าย ตามเขตและปีงบประมาณ",
                   "Budget and disbursement by district and fiscal year",
                   "Disbursement is the sum of the increments (never of the running totals). Every district office "
                   "and department with a project has a row; grey: its documents print no budget (web pages).",
                   f"<div class='chart'>{_svg(bars)}</div><div class='chart'>{_svg(heat)}</div>")


def progress_against_time(con: duckdb.DuckDBPyConnection) -> Section:
    df = _frame(con, """
        SELECT least(greatest(round(100.0 * (m.report_date - p.start_date) / nullif(p.end_date - p.start_date, 0),
                                    -1), 0), 100)::INT AS elapsed,
               least(round(m.progress_pct, -1), 100)::INT AS progress, count(*)::INT AS projects
        FROM (SELECT project_key, max_by(struct_pack(report_date, progress_pct), report_no) AS m
              FROM fact_monthly_progress WHERE report_date IS NOT NULL AND progress_pct IS NOT NULL
              GROUP BY project_key) latest
        JOIN dim_project p USING (project_key)
        WHERE p.start_date IS NOT NULL AND p.end_date IS NOT NULL GROUP BY ALL""")
    title = ("ความก้าวหน้าเทียบกับเวลาที่ผ่านไป", "Progress against time elapsed, per project (latest dated report)")
    if df.empty:
        return Section("progress", *title, "", _table(df, "no dated report yet"))
    df["x0"], df["x1"] = df["elapsed"] - 5, df["elapsed"] + 5
    df["y0"], df["y1"] = df["progress"] - 5, df["progress"] + 5
    axis = alt.Scale(domain=[-5, 105], nice=False)
    cells = alt.Chart(df).mark_rect().encode(
        x=alt.X("x0:Q", title="เวลาที่ผ่านไป % · time elapsed %", scale=axis), x2="x1:Q",
        y=alt.Y("y0:Q", title="ความก้าวหน้า % · progress %", scale=axis), y2="y1:Q",
        color=alt.Color("projects:Q", title="โครงการ · projects"), tooltip=["elapsed:Q", "progress:Q", "projects:Q"])
    diagonal = alt.Chart(pd.DataFrame({"x": [-5, 105], "y": [-5, 105]})).mark_line(
        color="#c0392b", strokeDash=[6, 4]).encode(x="x:Q", y="y:Q")
    chart = (cells + diagonal).properties(width=CHART_WIDTH, height=CHART_WIDTH)
    return Section("progress", *title, "Each cell counts the projects at that point (rounded to 10 %). The dashed "
                   "line is progress equal to time elapsed: a cell below it is behind time, above it ahead.",
                   f"<div class='chart'>{_svg(chart)}</div>")


def disbursement_timeline(con: duckdb.DuckDBPyConnection) -> Section:
    df = _frame(con, """SELECT period_month AS month, sum(disbursed_thb)::DOUBLE AS thb FROM fact_disbursement
                        WHERE period_month IS NOT NULL GROUP BY 1 ORDER BY 1""")
    title = ("การเบิกจ่ายรายเดือน", "Monthly disbursement timeline")
    if df.empty:
        return Section("timeline", *title, "", _table(df, "no disbursement yet"))
    line = alt.Chart(df).mark_line(point=True).encode(
        x=alt.X("month:T", title="เดือน (พ.ศ.) · month (BE)",
                axis=alt.Axis(labelExpr=BE_MONTH_LABEL, labelAngle=-40)),
        y=alt.Y("thb:Q", title="เบิกจ่าย (บาท) · disbursed (THB)")
    ).properties(width=CHART_WIDTH)
    return Section("timeline", *title, "Money disbursed per month across all projects (sum of increments); months "
                   "in the Buddhist Era.", f"<div class='chart'>{_svg(line)}</div>")


def findings_by_check(con: duckdb.DuckDBPyConnection) -> Section:
    df = _frame(con, "SELECT check_name, severity, count(*)::INT AS findings FROM dq_issue GROUP BY ALL")
    title = ("ผลการตรวจคุณภาพข้อมูล", "Data-quality findings by check")
    if df.empty:
        return Section("quality", *title, "", _table(df, "no finding: every check passed"))
    bars = alt.Chart(df).mark_bar().encode(
        y=alt.Y("check_name:N", title="การตรวจ · check", sort="-x"), x=alt.X("findings:Q", title="จำนวน · findings"),
        color=alt.Color("severity:N", title="ระดับ · severity",
                        scale=alt.Scale(domain=["error", "warning"], range=["#c0392b", "#e0a030"]))
    ).properties(width=CHART_WIDTH - 160)
    return Section("quality", *title, "dq_issue holds every finding with its file and detail.",
                   f"<div class='chart'>{_svg(bars)}</div>")


def table_sections(con: duckdb.DuckDBPyConnection, run_id: str) -> list[Section]:
    # each project's latest report by an aggregate (max_by), not a window over every report: 2x faster
    behind = _frame(con, """
        SELECT p.fiscal_year AS "ปีงบประมาณ / year",
               coalesce(d.name_th, a.name_printed_th, a.name_th) AS "เขต / district (or department)",
               p.project_key AS "โครงการ / project", p.name_th AS "ชื่อ / name",
               m.report_no AS "รายงานครั้งที่ / report", m.progress_pct AS "ความก้าวหน้า % / progress",
               m.plan_status AS "สถานะ / plan status"
        FROM (SELECT project_key, max_by(struct_pack(report_no, progress_pct, plan_status), report_no) AS m
              FROM fact_monthly_progress GROUP BY project_key) latest JOIN dim_project p USING (project_key)
        LEFT JOIN dim_district d USING (district_id) LEFT JOIN dim_agency a USING (agency_code)
        WHERE m.plan_status IN ('off_plan', 'on_plan_monitor') ORDER BY 1 DESC, 2, 3""")
    review = _frame(con, """
        SELECT entity_type AS "ประเภท / type", decision AS "การตัดสิน / decision", left_name AS "ชื่อ / name",
               right_name AS "เทียบกับ / against", score AS "คะแนน / score", evidence AS "หลักฐาน / evidence"
        FROM entity_review ORDER BY 1, 2, 3""")
    # the run named, not max(run_id): the Parquet statistics then skip every other run's file
    quarantined = _frame(con, f"""
        SELECT source_file AS "ไฟล์ / file", reason AS "เหตุผล / reason" FROM ingest_ledger
        WHERE status = 'quarantined' AND run_id = {literal(run_id)} ORDER BY 1""")
    return [
        Section("behind", "โครงการที่ไม่เป็นไปตามแผน", "Projects behind plan",
                "The latest report of each project is off plan, or on plan but to be monitored.",
                _table(behind, "no project is behind plan", BEHIND_PLAN_PAGE),
                ((BEHIND_PLAN_PAGE, _rows_html(behind)),) if len(behind) > TABLE_ROWS else ()),
        Section("review", "รายชื่อที่ควรตรวจสอบ", "Identities to review",
                "Settle them in data/reference/overrides.csv; the next run honours them.",
                _table(review, "nothing to review")),
        Section("quarantined", "ไฟล์ที่ถูกกักไว้", "Files quarantined by this run",
                "Not loaded; every file is accounted for in ingest_ledger.",
                _table(quarantined, "no file quarantined")),
    ]


def data_sections(con: duckdb.DuckDBPyConnection, run_id: str) -> list[Section]:
    """Every section but the data-quality one (which needs the version's checks): budget, progress, timeline,
    then the tables (the files quarantined by run `run_id`)."""
    return [budget_by_district_and_year(con), progress_against_time(con), disbursement_timeline(con),
            *table_sections(con, run_id)]


class ReportWriter:
    """report/index.html in two steps: the sections of the data on a thread (its queries and vl-convert
    release the GIL) while the version's checks run, then the data-quality section and the file."""

    def __init__(self, connect: Callable[[], duckdb.DuckDBPyConnection], version: Path, run_id: str,
                 built_at: datetime):
        self.connect, self.version, self.run_id, self.built_at = connect, version, run_id, built_at
        self.sections: list[Section] = []
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._data, name="report", daemon=True)

    def start(self) -> ReportWriter:
        start_engine()  # unless the run started it already
        self.thread.start()
        return self

    def _data(self) -> None:
        try:
            with closing(self.connect()) as con:
                self.sections = data_sections(con, self.run_id)
        except BaseException as exc:  # noqa: BLE001 - raised again by finish(), in the run's thread
            self.error = exc

    def finish(self) -> Path:
        """The report written; the chart engine stopped (a served process does not keep it between runs)."""
        try:
            self.thread.join()
            if self.error is not None:
                raise self.error
            with closing(self.connect()) as con:
                quality = findings_by_check(con)
        finally:
            ChartEngine.stop()
        return write_html(self.version, [*self.sections[:3], quality, *self.sections[3:]], self.run_id, self.built_at)


def render_html(sections: list[Section], run_id: str, built_at: datetime) -> str:
    nav = " · ".join(f"<a href='#{s.anchor}'>{html.escape(s.title_en)}</a>" for s in sections)
    body = "".join(
        f"<section id='{s.anchor}'><h2>{html.escape(s.title_th)}<br><small>{html.escape(s.title_en)}</small></h2>"
        f"<p class='note'>{html.escape(s.note)}</p>{s.body}</section>" for s in sections)
    return f"""<!DOCTYPE html>
<html lang="th"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>รายงานเครือข่ายโรงเรียน · schoolnet report {html.escape(run_id)}</title>
<style>
body {{ font-family: {THAI_FONTS}; margin: 2em auto; max-width: 70em; color: #222; }}
h1 small, h2 small {{ color: #666; font-weight: normal; }}
section {{ margin: 2.5em 0; }} .note, .more, .empty {{ color: #555; }}
table {{ border-collapse: collapse; font-size: 90%; }} th, td {{ border: 1px solid #ccc; padding: 0.25em 0.5em; }}
th {{ background: #f3f3f3; text-align: left; }} .chart svg {{ max-width: 100%; height: auto; }}
</style></head><body>
<h1>รายงานโครงการเครือข่ายโรงเรียน กรุงเทพมหานคร<br><small>BMA school-network projects: the run's report</small></h1>
<p>Run <code>{html.escape(run_id)}</code>, {built_at:%Y-%m-%d %H:%M} UTC. {nav}</p>
{body}
</body></html>
"""


def write_html(version: Path, sections: list[Section], run_id: str, built_at: datetime) -> Path:
    """index.html, and beside it the whole of each long list (its own page, same style, no script)."""
    folder = version / REPORT_DIR
    folder.mkdir(parents=True, exist_ok=True)
    for s in sections:
        for name, body in s.pages:
            page = Section(s.anchor, s.title_th, s.title_en, "Every row; back to <index.html>.",
                           body + "<p><a href='index.html'>index.html</a></p>")
            _write(folder / name, render_html([page], run_id, built_at))
    return _write(folder / "index.html", render_html(sections, run_id, built_at))


def _write(path: Path, text: str) -> Path:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path
