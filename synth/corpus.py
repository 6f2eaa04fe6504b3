"""`schoolnet generate`: a deterministic corpus of dumps in all three layouts, and its truth
(DIR.truth.jsonl, beside the folder, one JSON object per document)."""

from __future__ import annotations

import calendar
import json
import random
from decimal import Decimal
from pathlib import Path

from common.records import Reference
from synth.render import progress_form, proposal, web_page
from synth.world import TrueProject, World, build_world, draw_project

LAYOUT_WEIGHTS = {"progress_form": 0.7, "web_progress": 0.2, "proposal": 0.1}


def truth_path(out_dir: Path) -> Path:
    return out_dir.parent / f"{out_dir.name}.truth.jsonl"


def generate(out_dir: Path, docs: int, seed: int, reference: Reference) -> Path:
    """Write `docs` dumps into out_dir and their truth beside it; the same seed gives the same bytes."""
    out_dir.mkdir(parents=True, exist_ok=True)
    world = build_world(random.Random(seed), reference)
    truth_file = truth_path(out_dir)
    with truth_file.open("w", encoding="utf-8") as truth:
        for i in range(docs):
            rng = random.Random(f"{seed}:{i}")
            name, text, record = _document(rng, world, i)
            (out_dir / name).write_text(text, encoding="utf-8")
            truth.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
    return truth_file


def _document(rng: random.Random, world: World, i: int) -> tuple[str, str, dict]:
    layout = rng.choices(list(LAYOUT_WEIGHTS), list(LAYOUT_WEIGHTS.values()))[0]
    pr = draw_project(rng, world, with_code=layout != "proposal", with_reports=layout != "proposal", serial=i)
    district_name = world.districts[pr.district_id]
    schools: list[tuple[str, str]] = []
    spent: Decimal | None = None
    if layout == "progress_form":
        text, renderings, spent = progress_form(rng, pr, district_name, schools)
    elif layout == "web_progress":
        text, renderings = web_page(rng, pr, district_name), 1
    else:
        text, renderings = proposal(rng, pr, district_name), 1
    name = f"{i:06d}_{layout}.txt"
    return name, text, _truth(name, layout, renderings, pr, spent, schools)


def _truth(name: str, layout: str, renderings: int, pr: TrueProject, spent: Decimal | None,
           schools: list[tuple[str, str]]) -> dict:
    reports = pr.reports if layout == "progress_form" else pr.reports[-1:]
    previous = Decimal(0)
    rows = []
    for r in reports:
        row = {"report_no": r.report_no, "date": r.date.isoformat() if r.date else None,
               "progress_pct": str(r.progress)}
        if layout == "progress_form":
            row |= {"cumulative_thb": str(r.cumulative), "disbursed_thb": str(r.cumulative - previous),
                    "plan_status": r.plan, "target_status": r.target}
            previous = r.cumulative
        rows.append(row)
    end = pr.end
    if layout == "proposal":
        end = end.replace(day=calendar.monthrange(end.year, end.month)[1])
    header = {"project_code": pr.code, "fiscal_year": pr.fiscal_year, "district_id": pr.district_id,
              "budget_thb": str(pr.budget) if layout != "web_progress" else None,
              "reported_spent_thb": str(spent) if spent is not None else None,
              "start_date": pr.start.isoformat() if layout != "web_progress" else None,
              "end_date": end.isoformat() if layout != "web_progress" else None}
    return {"source_file": name, "layout": layout, "renderings": renderings, "header": header,
            "networks": list(pr.networks) if layout != "progress_form" or pr.networks else [],
            "officer_id": pr.officer.person_id if layout != "web_progress" else None,
            "coordinator_id": pr.coordinator.person_id if layout == "progress_form" else None,
            "schools": [{"raw": raw, "school_id": sid} for raw, sid in schools],
            "reports": rows}
