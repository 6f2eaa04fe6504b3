"""Typed Arrow tables of the warehouse, built from parsed dumps and resolved identities."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from decimal import Decimal

import pyarrow as pa

from extract.reference import Reference
from transform.entities import Resolution
from transform.identity import stable_id
from transform.normalize import normalize_thai
from transform.records import Finding, ParsedDump

MONEY = pa.decimal128(18, 2)
PCT = pa.decimal128(5, 2)

SCHEMAS: dict[str, pa.Schema] = {
    "dim_district": pa.schema([("district_id", pa.string()), ("name_th", pa.string()), ("name_en", pa.string())]),
    "dim_network": pa.schema([("network_no", pa.int32()), ("district_id", pa.string())]),
    "dim_school": pa.schema([("school_id", pa.string()), ("name_th", pa.string()), ("network_no", pa.int32()),
                             ("district_id", pa.string()), ("in_registry", pa.bool_())]),
    "dim_coordinator": pa.schema([("coordinator_id", pa.string()), ("name_th", pa.string()),
                                  ("title_th", pa.string()), ("phone", pa.string())]),
    "dim_officer": pa.schema([("officer_id", pa.string()), ("name_th", pa.string()), ("title_th", pa.string()),
                              ("phone", pa.string()), ("position_th", pa.string())]),
    "dim_project": pa.schema([
        ("project_key", pa.string()), ("project_code", pa.string()), ("fiscal_year", pa.int32()),
        ("name_th", pa.string()), ("district_id", pa.string()), ("budget_thb", MONEY),
        ("reported_spent_thb", MONEY), ("start_date", pa.date32()), ("end_date", pa.date32()),
        ("officer_id", pa.string()), ("coordinator_id", pa.string()), ("source_layout", pa.string()),
        ("unit_th", pa.string()), ("source_file", pa.string()),
    ]),
    "bridge_project_network": pa.schema([("project_key", pa.string()), ("network_no", pa.int32())]),
    "fact_monthly_progress": pa.schema([
        ("project_key", pa.string()), ("fiscal_year", pa.int32()), ("report_no", pa.int32()),
        ("report_date", pa.date32()), ("period_month", pa.date32()), ("month_imputed", pa.bool_()),
        ("progress_pct", PCT), ("plan_status", pa.string()), ("target_status", pa.string()),
        ("note_th", pa.string()), ("source_file", pa.string()),
    ]),
    "fact_disbursement": pa.schema([
        ("project_key", pa.string()), ("fiscal_year", pa.int32()), ("report_no", pa.int32()),
        ("report_date", pa.date32()), ("period_month", pa.date32()), ("cumulative_disbursed_thb", MONEY),
        ("disbursed_thb", MONEY), ("source_file", pa.string()),
    ]),
    "project_plan_step": pa.schema([
        ("project_key", pa.string()), ("step_no", pa.int32()), ("description_th", pa.string()),
        ("weight_pct", PCT), ("start_date", pa.date32()), ("end_date", pa.date32()), ("source_file", pa.string()),
    ]),
    "audit_value_vote": pa.schema([
        ("project_key", pa.string()), ("report_no", pa.int32()), ("field", pa.string()),
        ("rendering", pa.int32()), ("value", pa.string()), ("decided_value", pa.string()),
        ("source_file", pa.string()),
    ]),
    "entity_alias": pa.schema([
        ("entity_type", pa.string()), ("raw_text", pa.string()), ("canonical_id", pa.string()),
        ("canonical_name", pa.string()), ("score", pa.float64()), ("method", pa.string()),
        ("source_file", pa.string()),
    ]),
    "entity_review": pa.schema([
        ("entity_type", pa.string()), ("left_id", pa.string()), ("left_name", pa.string()),
        ("right_id", pa.string()), ("right_name", pa.string()), ("score", pa.float64()),
        ("decision", pa.string()), ("evidence", pa.string()),
    ]),
    "entity_registry": pa.schema([
        ("entity_type", pa.string()), ("canonical_id", pa.string()), ("canonical_name", pa.string()),
        ("phone", pa.string()), ("district_id", pa.string()), ("spellings", pa.list_(pa.string())),
        ("first_run_id", pa.string()),
    ]),
    "dq_issue": pa.schema([
        ("source_file", pa.string()), ("project_key", pa.string()), ("check_name", pa.string()),
        ("severity", pa.string()), ("detail", pa.string()),
    ]),
    "ingest_ledger": pa.schema([
        ("run_id", pa.string()), ("source_file", pa.string()), ("content_sha256", pa.string()),
        ("status", pa.string()), ("reason", pa.string()), ("layout", pa.string()),
        ("recorded_at", pa.timestamp("us", tz="UTC")),
    ]),
}
FACT_TABLES = ("fact_monthly_progress", "fact_disbursement")
STAGED_TABLES = (*FACT_TABLES, "audit_value_vote", "project_plan_step")  # built per dump, streamed to disk


@dataclass(frozen=True)
class Quarantined:
    source_file: str
    content_sha256: str
    reason: str


def project_key_of(dump: ParsedDump, district_id: str | None) -> str:
    """'2564-50020000-3255'; a project without a code keys on district, year and name."""
    fy = dump.header.fiscal_year or 0
    if dump.header.project_code:
        return f"{fy}-{dump.header.project_code}"
    return f"{fy}-{district_id or 'XXXX'}-" + stable_id("P", normalize_thai(dump.header.name_th or ""))[2:10]


def completeness(dump: ParsedDump) -> tuple[int, int, int]:
    """How much a dump says about its project: reports, filled values, renderings."""
    if dump.completeness is not None:
        return dump.completeness
    filled = sum(v is not None for r in dump.reports for v in (r.date, r.progress_pct, r.cumulative_thb))
    return len(dump.reports), filled, dump.renderings


def slim(dump: ParsedDump) -> ParsedDump:
    """What identity resolution and the dimensions need of a dump; its facts have gone to staging.

    Names, spellings and district mentions recur across thousands of dumps: interned, each is kept once.
    """
    spent = printed_spent_finding(dump)
    people = tuple(replace(p, raw=sys.intern(p.raw), name_th=sys.intern(p.name_th),
                           title_th=sys.intern(p.title_th) if p.title_th else None,
                           phone=sys.intern(p.phone) if p.phone else None) for p in dump.people)
    header = replace(dump.header, name_th=sys.intern(dump.header.name_th) if dump.header.name_th else None,
                     unit_th=sys.intern(dump.header.unit_th) if dump.header.unit_th else None)
    schools = tuple(replace(s, raw=sys.intern(s.raw), name_th=sys.intern(s.name_th)) for s in dump.schools)
    return replace(dump, reports=(), votes=(), steps=(), completeness=completeness(dump), people=people,
                   header=header, schools=schools,
                   district_mentions=tuple(sys.intern(m) for m in dump.district_mentions),
                   findings=dump.findings + ((spent,) if spent else ()))


class Columns:
    """Rows of one table gathered column by column (Arrow builds columns far faster than dict rows)."""

    def __init__(self, name: str):
        self.schema = SCHEMAS[name]
        self.data: dict[str, list] = {f.name: [] for f in self.schema}

    def add(self, **row: object) -> None:
        for column, values in self.data.items():
            values.append(row.get(column))

    def extend(self, other: Columns) -> None:
        for column, values in self.data.items():
            values.extend(other.data[column])

    def __len__(self) -> int:
        return len(next(iter(self.data.values())))

    def table(self) -> pa.Table:
        return pa.table([pa.array(self.data[f.name], type=f.type) for f in self.schema], schema=self.schema)


def dump_fact_rows(dump: ParsedDump, key: str) -> dict[str, Columns]:
    """The fact rows of one dump under its project key (votes and plan steps included)."""
    rows = {name: Columns(name) for name in STAGED_TABLES}
    fy = dump.header.fiscal_year
    source = dump.source_file
    decided: dict[tuple[int, str], object] = {}
    for r in dump.reports:
        if fy is not None:  # a fact without a fiscal year has no partition; dq_issue says so
            rows["fact_monthly_progress"].add(
                project_key=key, fiscal_year=fy, report_no=r.report_no, report_date=r.date,
                period_month=r.period_month, month_imputed=r.month_imputed, progress_pct=r.progress_pct,
                plan_status=r.plan_status, target_status=r.target_status, note_th=r.note_th, source_file=source)
            if r.cumulative_thb is not None:
                rows["fact_disbursement"].add(
                    project_key=key, fiscal_year=fy, report_no=r.report_no, report_date=r.date,
                    period_month=r.period_month, cumulative_disbursed_thb=r.cumulative_thb,
                    disbursed_thb=r.disbursed_thb, source_file=source)
        for name, value in (("date", r.date), ("progress_pct", r.progress_pct), ("cumulative_thb", r.cumulative_thb),
                            ("plan_status", r.plan_status), ("target_status", r.target_status)):
            decided[(r.report_no, name)] = value
    votes = rows["audit_value_vote"].data
    for v in dump.votes:
        if v.field != "note":
            votes["project_key"].append(key)
            votes["report_no"].append(v.report_no)
            votes["field"].append(v.field)
            votes["rendering"].append(v.rendering)
            votes["value"].append(_text(v.value))
            votes["decided_value"].append(_text(decided.get((v.report_no, v.field))))
            votes["source_file"].append(source)
    for step in dump.steps:
        rows["project_plan_step"].add(project_key=key, step_no=step.step_no, description_th=step.description_th,
                                      weight_pct=step.weight_pct, start_date=step.start_date,
                                      end_date=step.end_date, source_file=source)
    return rows


def arrow_tables(rows: dict[str, Columns]) -> dict[str, pa.Table]:
    return {name: columns.table() for name, columns in rows.items()}


def choose_sources(dumps: Sequence[ParsedDump], resolution: Resolution,
                   ) -> tuple[dict[str, ParsedDump], list[tuple[str, str, Finding]]]:
    """One dump per project: the most complete wins, then the first file name (deterministic)."""
    chosen: dict[str, ParsedDump] = {}
    findings: list[tuple[str, str, Finding]] = []
    for dump in sorted(dumps, key=lambda d: d.source_file):
        district = resolution.district_of.get(dump.source_file)
        key = project_key_of(dump, district.district_id if district else None)
        other = chosen.get(key)
        if other is None:
            chosen[key] = dump
            continue
        winner, loser = (dump, other) if completeness(dump) > completeness(other) else (other, dump)
        chosen[key] = winner
        findings.append((loser.source_file, key, Finding(
            "duplicate_project_source", "warning",
            f"{loser.source_file} reports the same project as {winner.source_file}; the more complete "
            f"{winner.source_file} is loaded, {loser.source_file} contributes no facts")))
    return chosen, findings


def printed_spent_finding(dump: ParsedDump) -> Finding | None:
    """The printed 'spent' figure is the sum of running totals in the source system: flag it when it
    disagrees with the last running total."""
    printed = dump.header.reported_spent_thb
    totals = [r.cumulative_thb for r in dump.reports if r.cumulative_thb is not None]
    if printed is None or not totals or printed == totals[-1]:
        return None
    explanation = (" (it equals the sum of the running totals, the source system's known error)"
                   if printed == sum(totals, Decimal(0)) else "")
    return Finding("printed_spent_mismatch", "warning",
                   f"printed spent {printed:,} differs from the last running total {totals[-1]:,}{explanation}")


def build_tables(dumps: Sequence[ParsedDump], resolution: Resolution, reference: Reference,
                 quarantined: Sequence[Quarantined]) -> tuple[dict[str, pa.Table], list[str]]:
    """Dimensions, bridges, aliases, reviews, registry and dq_issue as Arrow tables (the facts are staged
    per dump by dump_fact_rows; the ledger is the pipeline's), and the files whose facts are loaded."""
    rows: dict[str, list[dict]] = {name: [] for name in SCHEMAS}
    chosen, duplicate_findings = choose_sources(dumps, resolution)
    for source_file, key, finding in duplicate_findings:
        rows["dq_issue"].append(_dq(source_file, key, finding))
    key_of_file = {}
    for key, dump in sorted(chosen.items()):
        key_of_file[dump.source_file] = key
        district = resolution.district_of.get(dump.source_file)
        h = dump.header
        fy = h.fiscal_year
        rows["dim_project"].append({
            "project_key": key, "project_code": h.project_code, "fiscal_year": fy, "name_th": h.name_th,
            "district_id": district.district_id if district else None, "budget_thb": h.budget_thb,
            "reported_spent_thb": h.reported_spent_thb, "start_date": h.start_date, "end_date": h.end_date,
            "officer_id": resolution.person_of.get((dump.source_file, "officer")),
            "coordinator_id": resolution.person_of.get((dump.source_file, "coordinator")),
            "source_layout": dump.layout, "unit_th": h.unit_th, "source_file": dump.source_file,
        })
        rows["bridge_project_network"].extend({"project_key": key, "network_no": n} for n in dump.networks)
        if fy is None:
            rows["dq_issue"].append(_dq(dump.source_file, key, Finding(
                "fiscal_year_missing", "error", "no fiscal year: facts of this dump are not loaded")))
    for dump in dumps:
        key = key_of_file.get(dump.source_file)
        rows["dq_issue"].extend(_dq(dump.source_file, key, f) for f in dump.findings)
    for source_file, finding in resolution.findings:
        rows["dq_issue"].append(_dq(source_file, key_of_file.get(source_file), finding))
    for q in quarantined:
        rows["dq_issue"].append(_dq(q.source_file, None, Finding("quarantined", "error", q.reason)))
    rows["dim_district"] = [{"district_id": d.district_id, "name_th": d.name_th, "name_en": d.name_en}
                            for d in sorted(reference.districts, key=lambda d: d.district_id)]
    rows["dim_network"] = [{"network_no": n, "district_id": d} for n, d in resolution.networks.items()]
    rows["dim_school"] = [{"school_id": s.school_id, "name_th": s.name_th, "network_no": s.network_no,
                           "district_id": s.district_id, "in_registry": s.in_registry} for s in resolution.schools]
    for p in resolution.persons:
        if p.family == "coordinator":
            rows["dim_coordinator"].append({"coordinator_id": p.person_id, "name_th": p.name_th,
                                            "title_th": p.title_th, "phone": p.phone})
        else:
            rows["dim_officer"].append({"officer_id": p.person_id, "name_th": p.name_th, "title_th": p.title_th,
                                        "phone": p.phone, "position_th": p.position_th})
    # column by column: the alias table has a row per spelling per file
    aliases = Columns("entity_alias")
    for a in resolution.aliases:
        aliases.add(**record_dict(a))
    rows["entity_review"] = [record_dict(r) for r in resolution.reviews]
    rows["entity_registry"] = [{**record_dict(r), "spellings": list(r.spellings)} for r in resolution.registry]
    for name in (*STAGED_TABLES, "ingest_ledger", "entity_alias"):
        rows.pop(name)
    tables = {name: pa.Table.from_pylist(table_rows, schema=SCHEMAS[name]) for name, table_rows in rows.items()}
    tables["entity_alias"] = aliases.table()
    return tables, sorted(d.source_file for d in chosen.values() if d.header.fiscal_year is not None)


def record_dict(record: object) -> dict:
    """A flat record's fields (not asdict: it deep-copies every value)."""
    return {f.name: getattr(record, f.name) for f in fields(record)}  # type: ignore[arg-type]


def _dq(source_file: str, project_key: str | None, finding: Finding) -> dict:
    return {"source_file": source_file, "project_key": project_key, "check_name": finding.check_name,
            "severity": finding.severity, "detail": finding.detail}


def _text(value: object) -> str | None:
    if value is None:
        return None
    return value.isoformat() if hasattr(value, "isoformat") else str(value)
