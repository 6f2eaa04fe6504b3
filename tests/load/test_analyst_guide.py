"""The ten worked questions of docs/analyst_guide.md, run on a synthetic warehouse and checked against the
generator's truth: the guide's answers are the right ones, fan-out traps avoided."""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from datetime import date
from decimal import Decimal

import pytest

from common.settings import PROJECT_ROOT, Settings
from extract.reference import load_reference
from flows.stages import run_once
from load.door import open_warehouse
from synth.corpus import generate, truth_path, world_path
from synth.truth_diff import network_years
from tests.conftest import REFERENCE
from transform.values import fiscal_year_of

GUIDE = PROJECT_ROOT / "docs" / "analyst_guide.md"
_QUERY = re.compile(r"```sql\n-- (q\d+): [^\n]*\n(.*?)```", re.DOTALL)


def guide_queries() -> dict[str, str]:
    return dict(_QUERY.findall(GUIDE.read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("guide")
    corpus = root / "corpus"
    generate(corpus, 400, 5, load_reference(REFERENCE))
    settings = Settings.from_env(raw_dir=corpus, warehouse_dir=root / "wh", reference_dir=REFERENCE)
    run_once(settings)
    truth = [json.loads(ln) for ln in truth_path(corpus).read_text(encoding="utf-8").splitlines()]
    con = open_warehouse(settings.warehouse_dir)
    yield con, [t for t in truth if not t["quarantined"]], json.loads(world_path(corpus).read_text(encoding="utf-8"))
    con.close()


def _d(x) -> Decimal:
    return Decimal(str(x)).quantize(Decimal("0.01"))


def _last_total(t: dict) -> Decimal:
    return _d(t["reports"][-1]["cumulative_thb"]) if t["reports"] else _d(0)


def answers(truth: list[dict], world: dict) -> dict[str, list[tuple]]:
    """What each question must answer, from the truth alone."""
    h = [(t, t["header"]) for t in truth]
    forms = [(t, x) for t, x in h if t["layout"] == "progress_form" and x["fiscal_year"] is not None]
    q1, q2, q6, q7, q9 = Counter(), Counter(), Counter(), Counter(), Counter()
    for t, x in forms:
        if x["district_id"]:
            q1[(x["district_id"], x["fiscal_year"])] += _last_total(t)
        if t["reports"] and t["reports"][-1]["plan_status"] in ("off_plan", "on_plan_monitor"):
            q6[x["fiscal_year"]] += 1
    for t, x in h:
        if x["district_id"] and x["fiscal_year"] is not None and x["budget_thb"] is not None:
            q2[(x["district_id"], x["fiscal_year"])] += _d(x["budget_thb"])
        if x["fiscal_year"] is not None:
            q7[(world["agencies"][x["agency_code"]]["level"], x["fiscal_year"])] += 1
            q9[x["fiscal_year"]] += sum(r["date"] is None for r in t["reports"])
    years = network_years(world, truth)
    q5: dict[int, list[Decimal]] = defaultdict(list)
    for _, _, fy, _, allotted, disbursed, _, _ in years:
        if disbursed == "yes" and allotted is not None:
            q5[fy].append(_d(allotted))
    q8: dict[str, list[Decimal]] = defaultdict(list)
    for t, x in h:
        if t["layout"] == "web_progress" and world["agencies"][x["agency_code"]]["level"] == "department" \
                and t["headline"]["progress_pct"] is not None:
            q8[x["agency_code"]].append(Decimal(t["headline"]["progress_pct"]))
    q10: Counter = Counter()
    for t, _ in forms:
        previous = Decimal(0)
        for r in t["reports"]:
            if r["date"]:
                day = date.fromisoformat(r["date"])
                q10[(fiscal_year_of(day), ((day.month - 10) % 12) // 3 + 1)] += _d(r["cumulative_thb"]) - previous
            previous = _d(r["cumulative_thb"])
    return {
        "q1": sorted((*k, v) for k, v in q1.items()), "q2": sorted((*k, v) for k, v in q2.items()),
        "q3": sorted((n, fy, why) for n, _, fy, _, _, disbursed, _, why in years if disbursed == "no"),
        "q4": sorted((n, fy, _d(a)) for n, _, fy, _, a, _, _, _ in years if a is not None),
        "q5": sorted((fy, len(v), sum(v)) for fy, v in q5.items()),
        "q6": sorted(q6.items()), "q7": sorted((*k, v) for k, v in q7.items()),
        "q8": sorted((code, len(v), (sum(v) / len(v)).quantize(Decimal("0.01"))) for code, v in q8.items()),
        "q9": sorted((fy, n) for fy, n in q9.items() if n), "q10": sorted((*k, v) for k, v in q10.items()),
    }


def test_the_guide_has_ten_questions():
    assert sorted(guide_queries(), key=lambda q: int(q[1:])) == [f"q{i}" for i in range(1, 11)]


@pytest.mark.parametrize("question", [f"q{i}" for i in range(1, 11)])
def test_each_worked_question_gives_the_true_answer(world, question):
    con, truth, true_world = world
    got = [tuple(_d(v) if isinstance(v, Decimal | float) else v for v in row)
           for row in con.execute(guide_queries()[question]).fetchall()]
    want = [tuple(_d(v) if isinstance(v, Decimal) else v for v in row) for row in answers(truth, true_world)[question]]
    assert got and got == want


def test_the_traps_the_guide_warns_of_give_other_answers(world):
    """Summing money over the bridge or budgets over the facts inflates them; the guide's queries do not."""
    con, truth, _ = world
    fanned = con.execute("SELECT sum(f.disbursed_thb) FROM fact_disbursement f "
                         "JOIN bridge_project_network b USING (project_key)").fetchall()[0][0]
    right = con.execute("SELECT sum(disbursed_thb) FROM fact_disbursement").fetchall()[0][0]
    assert fanned > right == sum(_last_total(t) for t in truth if t["layout"] == "progress_form"
                                 and t["header"]["fiscal_year"] is not None)
    budget_fanned = con.execute("SELECT sum(p.budget_thb) FROM dim_project p "
                                "JOIN fact_monthly_progress f USING (project_key)").fetchall()[0][0]
    assert budget_fanned > con.execute("SELECT sum(budget_thb) FROM dim_project").fetchall()[0][0]
