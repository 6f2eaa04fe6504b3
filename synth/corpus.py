"""`schoolnet generate`: a deterministic corpus of dumps in all three layouts, its truth (DIR.truth.jsonl, one
JSON object per document) and its world (DIR.world.json: networks, schools, people), both beside the folder.

A document's truth holds what the warehouse must say of it: header and report values, the networks and the
schools it names (by the world's ids), its people, and the findings its phenomena must cause (a finding the
truth does not expect has no cause)."""

from __future__ import annotations

import calendar
import json
import random
from dataclasses import asdict
from decimal import Decimal
from pathlib import Path

from common.records import Reference
from synth.render import progress_form, proposal, web_page
from synth.world import TrueProject, World, build_world, draw_project

LAYOUT_WEIGHTS = {"progress_form": 0.7, "web_progress": 0.2, "proposal": 0.1}


def truth_path(out_dir: Path) -> Path:
    return out_dir.parent / f"{out_dir.name}.truth.jsonl"


def world_path(out_dir: Path) -> Path:
    return out_dir.parent / f"{out_dir.name}.world.json"


def generate(out_dir: Path, docs: int, seed: int, reference: Reference) -> Path:
    """Write `docs` dumps into out_dir, their truth and world beside it; the same seed gives the same bytes."""
    out_dir.mkdir(parents=True, exist_ok=True)
    world = build_world(random.Random(seed), reference)
    world_path(out_dir).write_text(json.dumps(world_record(world), ensure_ascii=False, sort_keys=True, indent=1),
                                   encoding="utf-8")
    truth_file = truth_path(out_dir)
    with truth_file.open("w", encoding="utf-8") as truth:
        for i in range(docs):
            rng = random.Random(f"{seed}:{i}")
            name, text, record = _document(rng, world, i)
            (out_dir / name).write_text(text, encoding="utf-8")
            truth.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
    return truth_file


def world_record(world: World) -> dict:
    schools = {s.school_id: asdict(s) for net in world.networks.values() for s in net.schools}
    people = {p.person_id: {**asdict(p), "name": p.name}
              for group in (*world.officers.values(), *world.coordinators.values()) for p in group}
    return {"districts": world.districts, "schools": schools, "people": people,
            "networks": {str(n): {"district_id": net.district_id, "lead": net.schools[0].school_id}
                         for n, net in world.networks.items()}}


def _document(rng: random.Random, world: World, i: int) -> tuple[str, str, dict]:
    layout = rng.choices(list(LAYOUT_WEIGHTS), list(LAYOUT_WEIGHTS.values()))[0]
    pr = draw_project(rng, world, with_code=layout != "proposal", with_reports=layout != "proposal", serial=i)
    district_name = world.districts[pr.district_id]
    schools: list[tuple[str, str]] = []
    spent: Decimal | None = None
    spellings: list[str] = []
    people: list[tuple[str, str]] = []
    if layout == "progress_form":
        text, renderings, spent = progress_form(rng, pr, district_name, schools, people)
    elif layout == "web_progress":
        text, renderings = web_page(rng, pr, district_name), 1
    else:
        (text, spellings), renderings = proposal(rng, pr, district_name, people), 1
    name = f"{i:06d}_{layout}.txt"
    record = _truth(name, layout, renderings, pr, spent, schools)
    record["people_spelled"] = [{"person_id": pid, "name": spelled} for pid, spelled in people]
    record["expected_findings"] = _expected_findings(layout, pr, spent, schools, spellings, district_name)
    return name, text, record


def _expected_findings(layout: str, pr: TrueProject, spent: Decimal | None, schools: list[tuple[str, str]],
                       spellings: list[str], district_name: str) -> dict[str, int]:
    """The dq_issue rows this document's phenomena must cause, by check name (each with its cause)."""
    expected: dict[str, int] = {}
    if spent is not None and pr.reports and spent != pr.reports[-1].cumulative:
        expected["printed_spent_mismatch"] = 1  # the source system prints the sum of the running totals
    if spent is not None and spent > pr.budget:
        expected["spent_within_budget"] = 1
    if layout == "proposal" and any(s != district_name for s in spellings):
        expected["district_resolved_fuzzily"] = 1  # OCR misspelt the district
    unregistered = {sid for _, sid in schools if sid.startswith("U:")}
    if unregistered:
        expected["school_not_in_registry"] = len(unregistered)  # a school missing from the registry
    return expected


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
