"""Fact and header fields of a warehouse against the truth of a synthetic corpus, and pairwise precision /
recall / F1 of person and school identities (synth/truth_diff.py diffs the rest)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

import duckdb

HEADER_FIELDS = ("project_code", "fiscal_year", "agency_code", "district_id", "budget_thb", "reported_spent_thb",
                 "start_date", "end_date")
# what a web page prints under its title (truth "headline" -> dim_project columns)
HEADLINE_FIELDS = {"progress_pct": "headline_progress_pct", "as_of": "headline_as_of",
                   "evaluation_quarter": "evaluation_quarter", "evaluation_score": "evaluation_score"}
REPORT_FIELDS = {"date": "report_date", "progress_pct": "progress_pct", "cumulative_thb": "cumulative_disbursed_thb",
                 "disbursed_thb": "disbursed_thb", "plan_status": "plan_status", "target_status": "target_status"}


@dataclass
class FieldScore:
    total: int = 0
    correct: int = 0
    misses: Counter = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)
    wrong: Counter = field(default_factory=Counter)  # misses that are a value, not a NULL: stated and false
    wrong_examples: list[str] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 1.0

    def as_dict(self) -> dict:
        return {"accuracy": round(self.accuracy, 5), "total": self.total, "correct": self.correct,
                "misses_by_field": dict(self.misses.most_common()), "miss_examples": self.examples[:20],
                "wrong_values": sum(self.wrong.values()), "wrong_by_field": dict(self.wrong.most_common()),
                "wrong_examples": self.wrong_examples[:20]}


def pairwise_scores(items: Iterable[tuple[object, object]]) -> dict[str, float]:
    """Pairwise precision, recall and F1 of a clustering: items are (truth label, predicted label)."""
    items = list(items)
    cells = Counter(items)
    truth = Counter(t for t, _ in items)
    pred = Counter(p for _, p in items)

    def pairs(counter: Counter) -> int:
        return sum(n * (n - 1) // 2 for n in counter.values())

    tp = pairs(cells)
    predicted, actual = pairs(pred), pairs(truth)
    precision = tp / predicted if predicted else 1.0
    recall = tp / actual if actual else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    ids_of: dict[object, set] = defaultdict(set)
    truths_of: dict[object, set] = defaultdict(set)
    for t, p in cells:
        ids_of[t].add(p)
        truths_of[p].add(t)
    return {"precision": round(precision, 5), "recall": round(recall, 5), "f1": round(f1, 5), "items": len(items),
            "true_pairs": actual, "predicted_pairs": predicted, "entities": len(truth), "identities": len(pred),
            # what reconciliation missed: an entity in more than one identity, an identity of more than one entity
            "split": sorted(str(t) for t, ids in ids_of.items() if len(ids) > 1),
            "joined": sorted(str(p) for p, ts in truths_of.items() if len(ts) > 1)}


def variants_merged(items: Iterable[tuple[object, object, bool]]) -> dict[str, int]:
    """Of the mentions no rendering spelled as printed (an OCR variant: the bool), how many reconciliation put
    in their entity's identity (the one most of the entity's mentions have)."""
    items = list(items)
    cells = Counter((t, p) for t, p, _ in items)
    usual: dict[object, tuple[int, object]] = {}
    for (t, p), n in cells.items():
        if t not in usual or n > usual[t][0]:
            usual[t] = (n, p)
    variants = [(t, p) for t, p, variant in items if variant]
    return {"mentions": len(items), "variants": len(variants),
            "variants_merged": sum(usual[t][1] == p for t, p in variants)}


def _same(truth: object, got: object) -> bool:
    if truth is None:
        return got is None
    if got is None:
        return False
    if isinstance(got, Decimal) or isinstance(truth, str) and truth.replace(".", "").isdigit():
        try:
            return Decimal(str(truth)) == Decimal(str(got))
        except ArithmeticError:
            return False
    return str(truth) == (got.isoformat() if hasattr(got, "isoformat") else str(got))


def score_fields(con: duckdb.DuckDBPyConnection, truth: list[dict],
                 ) -> tuple[FieldScore, dict[str, float], dict[str, float]]:
    """Every header and report field the truth states, and the pairwise scores of people and schools."""
    projects = {r[0]: r for r in con.execute(
        f"SELECT source_file, project_key, officer_id, coordinator_id, {', '.join(HEADER_FIELDS)}, "
        f"{', '.join(HEADLINE_FIELDS.values())} FROM dim_project").fetchall()}
    reports: dict[tuple[str, int], dict] = {}
    for row in con.execute(
            "SELECT m.project_key, m.report_no, m.report_date, m.progress_pct, d.cumulative_disbursed_thb, "
            "d.disbursed_thb, m.plan_status, m.target_status FROM fact_monthly_progress m "
            "LEFT JOIN fact_disbursement d USING (project_key, report_no)").fetchall():
        reports[(row[0], row[1])] = dict(zip(REPORT_FIELDS.values(), row[2:], strict=True))
    school_alias: dict[str, dict[str, str]] = defaultdict(dict)
    for raw, cid, source in con.execute(
            "SELECT raw_text, canonical_id, source_file FROM entity_alias WHERE entity_type = 'school'").fetchall():
        school_alias[source][raw] = cid
    person_alias: dict[tuple[str, str], list[str]] = defaultdict(list)
    for raw, cid, source in con.execute("SELECT raw_text, canonical_id, source_file FROM entity_alias "
                                        "WHERE entity_type IN ('officer', 'coordinator')").fetchall():
        person_alias[(source, cid)].append(raw)
    q = FieldScore()
    people: list[tuple[object, object, bool]] = []
    schools: list[tuple[object, object, bool]] = []
    for t in truth:
        row = projects.get(t["source_file"])
        _score_document(q, t, row, reports)
        spelled = {p["person_id"]: p["name"] for p in t.get("people_spelled", [])}
        if row:
            for role, index in (("officer_id", 2), ("coordinator_id", 3)):
                if t.get(role):
                    got = row[index] or f"missing:{t['source_file']}:{role}"
                    name = spelled.get(t[role])
                    read = person_alias.get((t["source_file"], got), [])
                    people.append((t[role], got, bool(name) and not any(name in raw for raw in read)))
        read = _aligned(t["schools"], school_alias[t["source_file"]])
        for s in t["schools"]:
            schools.append((s["school_id"], read.get(s["raw"], f"missing:{s['raw']}"),
                            s["raw"] not in school_alias[t["source_file"]]))
    return q, _scores(people), _scores(schools)


def _scores(items: list[tuple[object, object, bool]]) -> dict:
    return {**pairwise_scores((t, p) for t, p, _ in items), **variants_merged(items)}


def _aligned(printed: list[dict], read: dict[str, str]) -> dict[str, str]:
    """Each school as printed -> the identity of its mention in the warehouse: the same spelling, else (a scan:
    OCR spells it its own way) the closest spelling of the document not taken by another, within 80 (plain edit
    ratio: rapidfuzz's default processing deletes Thai marks). A mention no spelling comes close to is missing."""
    from rapidfuzz import fuzz

    out = {s["raw"]: read[s["raw"]] for s in printed if s["raw"] in read}
    free = [raw for raw in read if raw not in out]
    for s in printed:
        if s["raw"] in out or not free:
            continue
        best = max(free, key=lambda raw: fuzz.ratio(s["raw"], raw))
        if fuzz.ratio(s["raw"], best) >= 80:
            out[s["raw"]] = read[best]
            free.remove(best)
    return out


def _score_document(q: FieldScore, t: dict, row: tuple | None, reports: dict[tuple[str, int], dict]) -> None:
    header_got = dict(zip((*HEADER_FIELDS, *HEADLINE_FIELDS.values()), row[4:], strict=True)) if row else {}
    for name in HEADER_FIELDS:
        want = t["header"].get(name)
        if want is None and name not in ("project_code", "district_id"):
            continue
        _score(q, t["source_file"], name, want, header_got.get(name), row is not None)
    for name, column in HEADLINE_FIELDS.items() if "headline" in t else ():
        _score(q, t["source_file"], column, t["headline"][name], header_got.get(column), row is not None)
    for r in t["reports"]:
        got = reports.get((row[1], r["report_no"])) if row else None
        for name, column in REPORT_FIELDS.items():
            if name in r:
                _score(q, f"{t['source_file']}#{r['report_no']}", name, r[name], got.get(column) if got else None,
                       got is not None)


def _score(q: FieldScore, where: str, name: str, want: object, got: object, present: bool) -> None:
    q.total += 1
    if present and _same(want, got):
        q.correct += 1
        return
    q.misses[name] += 1
    if present and got is not None:
        q.wrong[name] += 1
        if len(q.wrong_examples) < 50:
            q.wrong_examples.append(f"{where} {name}: truth {want!r}, got {got!r}")
    if len(q.examples) < 50:
        q.examples.append(f"{where} {name}: truth {want!r}, got {got!r}" + ("" if present else " (row missing)"))
