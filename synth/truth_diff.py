"""A truth diff of the whole warehouse built from a synthetic corpus: for every dimension and the bridge,
the rows the truth expects against the rows found (precision counts what the warehouse holds that the
truth does not); every fact field; every dq_issue row matched to the phenomenon that caused it (a finding
with no cause counts against precision); entity_review against the pairs that are truly ambiguous; and
pairwise precision / recall of person and school identities."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import duckdb
from rapidfuzz.distance import Levenshtein

from common.text import normalize_thai
from load.door import open_warehouse
from synth.corpus import truth_path, world_path
from synth.facts import FieldScore, score_fields

AMBIGUOUS_MAX_EDITS = 2  # two different people whose names are this close can only be told apart by a person
SHOWN = 3  # extra and missing rows named per table


@dataclass
class TableDiff:
    table: str
    expected: set = field(default_factory=set)
    found: Counter = field(default_factory=Counter)  # a row found twice is one extra

    @property
    def matched(self) -> int:
        return sum(1 for row in self.found if row in self.expected)

    @property
    def precision(self) -> float:
        return self.matched / sum(self.found.values()) if self.found else 1.0

    @property
    def recall(self) -> float:
        return self.matched / len(self.expected) if self.expected else 1.0

    def extra(self) -> list[str]:
        rows = [r for r in sorted(self.found, key=str) if r not in self.expected]
        rows += [r for r, n in sorted(self.found.items(), key=str) if n > 1]
        return [" / ".join(map(str, r)) for r in rows[:SHOWN]]

    def missing(self) -> list[str]:
        return [" / ".join(map(str, r)) for r in sorted(self.expected - set(self.found), key=str)[:SHOWN]]


@dataclass
class Diff:
    tables: list[TableDiff]
    fields: FieldScore
    dq: TableDiff  # (source_file, check_name, n-th) rows
    review_rows: int
    ambiguous: int  # truly ambiguous pairs + schools truly missing from the registry
    review_covered: int  # ambiguous pairs the review lists
    person: dict[str, float]
    school: dict[str, float]

    @property
    def checks(self) -> dict[str, dict[str, int]]:
        """Per check of the warehouse: the findings its causes expect, those found, those found on a file
        beyond what its causes expect (a second finding of one cause, or one without a cause)."""
        out: dict[str, dict[str, int]] = {}
        for _, check, _ in self.dq.expected:
            out.setdefault(check, Counter())["expected"] += 1
        for (file, check, k), n in self.dq.found.items():
            c = out.setdefault(check, Counter())
            c["found"] += n
            c["without_cause"] += n if (file, check, k) not in self.dq.expected else n - 1
        return {k: {"expected": v["expected"], "found": v["found"], "without_cause": v["without_cause"]}
                for k, v in sorted(out.items())}

    def as_dict(self) -> dict:
        return {"tables": {t.table: _table_dict(t) for t in (*self.tables, self.dq)}, "checks": self.checks,
                "fields": self.fields.as_dict(), "entity_review": {
                    "rows": self.review_rows, "truly_ambiguous": self.ambiguous, "covered": self.review_covered},
                "person": self.person, "school": self.school}

    def as_table(self) -> str:
        lines = [f"{'table':<24} {'expected':>8} {'found':>7} {'precision':>9} {'recall':>7}  first extra | missing"]
        for t in (*self.tables, self.dq):
            lines.append(f"{t.table:<24} {len(t.expected):>8} {sum(t.found.values()):>7} {t.precision:>9.4f} "
                         f"{t.recall:>7.4f}  {'; '.join(t.extra()) or '-'} | {'; '.join(t.missing()) or '-'}")
        f = self.fields
        lines.append(f"{'fact and header fields':<24} {f.total:>8} {f.correct:>7} {'':>9} {f.accuracy:>7.4f}  "
                     + (", ".join(f"{k} {v}" for k, v in f.misses.most_common(4)) or "no field missed"))
        lines.append(f"{'entity_review':<24} {self.ambiguous:>8} {self.review_rows:>7} {'':>9} "
                     f"{self.review_covered / max(self.ambiguous, 1):>7.4f}  (truly ambiguous pairs and schools "
                     f"missing from the registry: {self.ambiguous}; rows: {self.review_rows})")
        lines.append("findings by check (expected by their causes / found / without a cause): " + ", ".join(
            f"{k} {v['expected']}/{v['found']}/{v['without_cause']}" for k, v in self.checks.items()))
        lines.append(f"identities pairwise: person P/R {self.person['precision']}/{self.person['recall']}, "
                     f"school P/R {self.school['precision']}/{self.school['recall']}")
        return "\n".join(lines)


def _table_dict(t: TableDiff) -> dict:
    return {"expected": len(t.expected), "found": sum(t.found.values()), "precision": round(t.precision, 5),
            "recall": round(t.recall, 5), "first_extra": t.extra(), "first_missing": t.missing()}


def truth_diff(corpus: Path, warehouse_dir: Path) -> Diff:
    world = json.loads(world_path(corpus).read_text(encoding="utf-8"))
    records = [json.loads(line) for line in truth_path(corpus).read_text(encoding="utf-8").splitlines()]
    truth = [t for t in records if not t.get("quarantined")]  # a quarantined file has only its finding
    con = open_warehouse(warehouse_dir)
    try:
        tables = _dimension_diffs(con, world, truth)
        dq = _dq_diff(con, records)
        fields, person, school = score_fields(con, truth)
        review_rows, ambiguous, covered = _review(con, world, truth)
    finally:
        con.close()
    return Diff(tables, fields, dq, review_rows, ambiguous, covered, person, school)


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> Counter:
    return Counter(tuple(r) for r in con.execute(sql).fetchall())


def _dimension_diffs(con: duckdb.DuckDBPyConnection, world: dict, truth: list[dict]) -> list[TableDiff]:
    people, schools = world["people"], world["schools"]
    networks = {(n, world["networks"][str(n)]["district_id"]) for t in truth for n in t["networks"]}
    printed = {s["school_id"] for t in truth for s in t["schools"]}
    expected_schools = {(normalize_thai(schools[s]["name"]), schools[s]["district_id"], schools[s]["network_no"])
                        for s in printed}
    diffs = [
        TableDiff("dim_district", {(k, normalize_thai(v)) for k, v in world["districts"].items()},
                  _rows(con, "SELECT district_id, name_th FROM dim_district")),
        TableDiff("dim_network", networks, _rows(con, "SELECT network_no, district_id FROM dim_network")),
        TableDiff("dim_school", expected_schools,
                  _rows(con, "SELECT name_th, district_id, network_no FROM dim_school")),
        TableDiff("dim_coordinator", _people(people, truth, ("coordinator_id",)),
                  _rows(con, "SELECT name_th, phone FROM dim_coordinator")),
        TableDiff("dim_officer", _people(people, truth, ("officer_id", "co_officer_ids")),
                  _rows(con, "SELECT name_th, phone FROM dim_officer")),
        TableDiff("dim_agency", _agencies(world, truth),
                  _rows(con, "SELECT agency_code, name_th, level, district_id, name_printed_th FROM dim_agency")),
        TableDiff("dim_project", {(t["source_file"], t["header"]["project_code"], t["header"]["fiscal_year"],
                                   t["header"]["agency_code"], t["header"]["district_id"]) for t in truth},
                  _rows(con, "SELECT source_file, project_code, fiscal_year, agency_code, district_id "
                             "FROM dim_project")),
        TableDiff("bridge_project_network", {(t["source_file"], n) for t in truth for n in t["networks"]},
                  _rows(con, "SELECT p.source_file, b.network_no FROM bridge_project_network b "
                             "JOIN dim_project p USING (project_key)")),
        TableDiff("fact_network_event", {(t["source_file"], e["report_no"], e["network_no"], e["event"],
                                          _money(e["amount_thb"]), e["reason_th"]) for t in truth
                                         if t["header"]["fiscal_year"] is not None for e in t["network_events"]},
                  _rows(con, "SELECT p.source_file, e.report_no, e.network_no, e.event, e.amount_thb::VARCHAR, "
                             "e.reason_th FROM fact_network_event e JOIN dim_project p USING (project_key)")),
        TableDiff("mart_network_year", network_years(world, truth),
                  _rows(con, "SELECT network_no, district_id, fiscal_year, projects, allotted_thb::VARCHAR, disbursed, "
                             "said_in_report_no, reason_th FROM mart_network_year")),
    ]
    return diffs


def network_years(world: dict, truth: list[dict]) -> set[tuple]:
    """What mart_network_year must hold, from the truth of every document: each network of each fiscal year with
    its allotment, whether it disbursed (yes: a report says so, first such report; no: its last word is that it
    did not, with the reason; else unknown)."""
    named: dict[tuple[int, int], int] = Counter()
    told: dict[tuple[int, int], list[tuple]] = {}
    for t in truth:
        fy = t["header"]["fiscal_year"]
        if fy is None:
            continue
        for n in t["networks"]:
            named[(n, fy)] += 1
        dates = {r["report_no"]: r["date"] or "" for r in t["reports"]}
        key = f"{fy}-{t['header']['project_code']}"
        for e in t["network_events"]:
            told.setdefault((e["network_no"], fy), []).append((dates.get(e["report_no"], ""), e["report_no"], key, e))
    rows = set()
    for (n, fy), projects in named.items():
        said = sorted(told.get((n, fy), []), key=lambda x: x[:3])
        last_allot: dict[str, Decimal] = {}
        for _, _, key, e in said:
            if e["event"] == "allocated" and e["amount_thb"] is not None:
                last_allot[key] = Decimal(e["amount_thb"])
        allotted = _money(str(sum(last_allot.values()))) if last_allot else None
        paid = [x for x in said if x[3]["event"] == "disbursed"]
        last = said[-1][3] if said else None
        if paid:
            outcome = ("yes", paid[0][1], None)
        elif last is not None and last["event"] == "not_disbursed":
            outcome = ("no", said[-1][1], last["reason_th"])
        else:
            outcome = ("unknown", None, None)
        rows.add((n, world["networks"][str(n)]["district_id"], fy, projects, allotted, *outcome))
    return rows


def _money(text: str | None) -> str | None:
    """A truth amount as DuckDB prints a DECIMAL(18,2)."""
    return None if text is None else f"{Decimal(text):.2f}"


def _ids(t: dict, roles: tuple[str, ...]) -> list[str]:
    out: list[str] = []
    for role in roles:
        value = t.get(role)
        out += value if isinstance(value, list) else [value] if value else []
    return out


def _people(people: dict, truth: list[dict], roles: tuple[str, ...]) -> set[tuple]:
    """(name, phone) of everyone in those roles; the phone where a document printed one. The name is the one the
    corpus prints most often for them (a first name printed alone counts only when no full name is printed),
    the true one on a tie: where OCR misspelt a person the same way more often than it spelt them right (one
    document, two of three renderings), nothing tells the true name."""
    ids = {i for t in truth for i in _ids(t, roles)}
    printed_phone = {i for t in truth for i in t.get("phones_printed", [])}
    spelled: dict[str, Counter] = {}
    for t in truth:
        for p in t.get("people_spelled", []):
            spelled.setdefault(p["person_id"], Counter())[normalize_thai(p["name"])] += 1
    expected = set()
    for i in ids:
        true_name, seen = normalize_thai(people[i]["name"]), spelled.get(i, Counter())
        full = Counter({s: n for s, n in seen.items() if " " in s}) or seen
        name = min(full, key=lambda s: (-full[s], s != true_name, len(s), s)) if full else true_name
        expected.add((name, people[i]["phone"] if i in printed_phone else None))
    return expected


def _agencies(world: dict, truth: list[dict]) -> set[tuple]:
    """Every agency of the reference list, with the name its projects print most often (the longest, then the
    last in order, on a tie: as dim_agency breaks ties)."""
    printed: dict[str, Counter] = {}
    for t in truth:
        code = t["header"]["agency_code"]
        if code and t.get("agency_printed"):
            printed.setdefault(code, Counter())[normalize_thai(t["agency_printed"])] += 1
    rows = set()
    for code, a in world["agencies"].items():
        names = printed.get(code)
        most = max(names, key=lambda n: (names[n], n)) if names else None
        rows.add((code, a["name_th"], a["level"], a["district_id"], most))
    return rows


def _dq_diff(con: duckdb.DuckDBPyConnection, truth: list[dict]) -> TableDiff:
    expected = {(t["source_file"], check, k) for t in truth
                for check, n in t.get("expected_findings", {}).items() for k in range(n)}
    found: Counter = Counter()
    seen: Counter = Counter()
    for source_file, check in con.execute(
            "SELECT coalesce(d.source_file, p.source_file), d.check_name FROM dq_issue d "
            "LEFT JOIN dim_project p USING (project_key)").fetchall():
        found[(source_file, check, seen[(source_file, check)])] += 1
        seen[(source_file, check)] += 1
    return TableDiff("dq_issue", expected, found)


def _review(con: duckdb.DuckDBPyConnection, world: dict, truth: list[dict]) -> tuple[int, int, int]:
    """(review rows, truly ambiguous pairs + unregistered schools printed, of them the review lists)."""
    people = world["people"]
    seen = {i for t in truth for i in _ids(t, ("officer_id", "co_officer_ids", "coordinator_id"))}
    by_family: dict[str, list[str]] = {}
    for pid in sorted(seen):
        by_family.setdefault(people[pid]["family"], []).append(normalize_thai(people[pid]["name"]))
    pairs = {tuple(sorted((a, b))) for names in by_family.values() for i, a in enumerate(names)
             for b in names[i + 1:] if Levenshtein.distance(a, b) <= AMBIGUOUS_MAX_EDITS}
    unregistered = {s["school_id"] for t in truth for s in t["schools"] if s["school_id"].startswith("U:")}
    rows = con.execute("SELECT entity_type, left_name, right_name FROM entity_review").fetchall()
    listed = {tuple(sorted((a, b))) for kind, a, b in rows if kind != "school"}
    return len(rows), len(pairs) + len(unregistered), len(pairs & listed) + min(
        len(unregistered), sum(1 for kind, _, b in rows if kind == "school" and not b))
