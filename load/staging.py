"""What a document contributes, staged to disk in chunks as documents are parsed: its facts, and every row
that names it (its project, findings, aliases, mentions, ledger entry). Nothing per document stays in
memory; sql/staging and sql/marts assemble the warehouse from these chunks."""

from __future__ import annotations

import os
import pickle
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from common.records import Headline, ParsedDump
from common.text import normalize_thai
from load.tables import DOCUMENT_YEAR, STAGED_TABLES, WORK_SCHEMAS, Columns
from transform.agencies import Placement
from transform.identity import stable_id
from transform.network_events import decided_of
from transform.persons import PersonNode

STAGED = (*STAGED_TABLES, *WORK_SCHEMAS)


def write_chunk(chunk_dir: Path, tables: dict[str, pa.Table], evidence: object) -> None:
    """A chunk of the document store: a Parquet file per staged table that has rows, and the chunk's folded
    identity evidence (pickled). Written to a temporary folder and renamed whole: a chunk is complete or
    absent."""
    tmp = chunk_dir.with_name(f".{chunk_dir.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for name, table in tables.items():
        if not table.num_rows:
            continue
        if name in STAGED_TABLES:
            _write_by_year(table, tmp / f"{name}.parquet")
        else:
            pq.write_table(table, tmp / f"{name}.parquet", compression="snappy")
    with (tmp / "evidence.pkl").open("wb") as fh:
        pickle.dump(evidence, fh, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, chunk_dir)


def _write_by_year(table: pa.Table, path: Path) -> None:
    """A yearly table's rows sorted by their document's year, a row group per year: a reader that asks for
    one year skips the others' row groups by their statistics."""
    table = table.sort_by(DOCUMENT_YEAR.name)
    years = table.column(DOCUMENT_YEAR.name)
    with pq.ParquetWriter(path, table.schema, compression="snappy") as writer:
        for year in pc.unique(years).to_pylist():
            mask = pc.is_null(years) if year is None else pc.equal(years, year)
            writer.write_table(table.filter(mask), row_group_size=table.num_rows)


def new_rows() -> dict[str, Columns]:
    return {name: Columns(name, (DOCUMENT_YEAR,) if name in STAGED_TABLES else ()) for name in STAGED}


def project_key_of(dump: ParsedDump, district_id: str | None) -> str:
    """'2564-50020000-3255'; a project without a code keys on district, year and name."""
    fy = dump.header.fiscal_year or 0
    if dump.header.project_code:
        return f"{fy}-{dump.header.project_code}"
    return f"{fy}-{district_id or 'XXXX'}-" + stable_id("P", normalize_thai(dump.header.name_th or ""))[2:10]


def stage_document(rows: dict[str, Columns], dump: ParsedDump, placement: Placement,
                   people: list[tuple[PersonNode, str]]) -> None:
    """Every staged row of one parsed document (people: its nodes with their signature keys)."""
    district_id = placement.district_id
    key = project_key_of(dump, district_id)
    stage_facts(rows, dump, key)
    h = dump.header
    role_keys = {node.role_key: sig for node, sig in people}
    filled = sum(v is not None for r in dump.reports for v in (r.date, r.progress_pct, r.cumulative_thb))
    headline = dump.headline or Headline()
    rows["stg_doc"].add(
        source_file=dump.source_file, project_key=key, project_code=h.project_code, fiscal_year=h.fiscal_year,
        name_th=h.name_th, agency_code=placement.agency_code, agency_th=placement.agency_th, district_id=district_id,
        budget_thb=h.budget_thb, reported_spent_thb=h.reported_spent_thb,
        start_date=h.start_date, end_date=h.end_date, source_layout=dump.layout, unit_th=h.unit_th,
        officer_key=role_keys.get("officer"), coordinator_key=role_keys.get("coordinator"),
        networks=list(dump.networks), n_reports=len(dump.reports), n_filled=filled, renderings=dump.renderings,
        headline_progress_pct=headline.progress_pct, headline_as_of=headline.as_of,
        evaluation_quarter=headline.evaluation_quarter, evaluation_score=headline.evaluation_score)
    for finding in (*placement.findings, *dump.findings):
        rows["stg_doc_dq"].add(source_file=dump.source_file, check_name=finding.check_name,
                               severity=finding.severity, detail=finding.detail)
    for alias in placement.aliases:
        rows["stg_doc_alias"].add(entity_type=alias.entity_type, raw_text=alias.raw_text,
                                  canonical_id=alias.canonical_id, canonical_name=alias.canonical_name,
                                  score=alias.score, method=alias.method, source_file=alias.source_file)
    for node, sig in people:
        for raw, mention in sorted({m.raw: m for m in node.mentions}.items()):
            rows["stg_person_mention"].add(source_file=dump.source_file, entity_type=node.family, person_key=sig,
                                           raw_text=raw, name_th=mention.name_th)
    for school in sorted(set(dump.schools), key=lambda s: (s.raw, s.name_th, s.network_no or 0, s.tail, s.same_line)):
        rows["stg_school_mention"].add(source_file=dump.source_file, raw_text=school.raw, name_th=school.name_th,
                                       district_id=district_id, network_no=school.network_no, tail=school.tail,
                                       same_line=school.same_line)


def stage_facts(rows: dict[str, Columns], dump: ParsedDump, key: str) -> None:
    """The fact rows of one dump under its project key (votes and plan steps included)."""
    fy = dump.header.fiscal_year
    source = dump.source_file
    decided: dict[tuple[int, str], object] = {}
    for r in dump.reports:
        if fy is not None:  # a fact without a fiscal year has no partition; dq_issue says so
            rows["fact_monthly_progress"].add(
                project_key=key, fiscal_year=fy, report_no=r.report_no, report_date=r.date,
                period_month=r.period_month, month_imputed=r.month_imputed, progress_pct=r.progress_pct,
                plan_status=r.plan_status, target_status=r.target_status, note_th=r.note_th, source_file=source,
                document_fiscal_year=fy)
            if r.cumulative_thb is not None:
                rows["fact_disbursement"].add(
                    project_key=key, fiscal_year=fy, report_no=r.report_no, report_date=r.date,
                    period_month=r.period_month, cumulative_disbursed_thb=r.cumulative_thb,
                    disbursed_thb=r.disbursed_thb, source_file=source, document_fiscal_year=fy)
        for name, value in (("date", r.date), ("progress_pct", r.progress_pct), ("cumulative_thb", r.cumulative_thb),
                            ("plan_status", r.plan_status), ("target_status", r.target_status)):
            decided[(r.report_no, name)] = value
    decided.update(decided_of(dump.network_events))
    if fy is not None:
        dates = {r.report_no: r.date for r in dump.reports}
        for e in dump.network_events:
            rows["fact_network_event"].add(
                project_key=key, fiscal_year=fy, report_no=e.report_no, report_date=dates.get(e.report_no),
                network_no=e.network_no, event=e.event, amount_thb=e.amount_thb, reason_th=e.reason_th,
                sentence_th=e.sentence_th, source_file=source, document_fiscal_year=fy)
    votes = rows["audit_value_vote"].data
    for v in dump.votes:
        if v.field != "note":
            votes["project_key"].append(key)
            votes["fiscal_year"].append(fy)
            votes["report_no"].append(v.report_no)
            votes["field"].append(v.field)
            votes["rendering"].append(v.rendering)
            votes["value"].append(_text(v.value))
            votes["decided_value"].append(_text(decided.get((v.report_no, v.field))))
            votes["source_file"].append(source)
            votes[DOCUMENT_YEAR.name].append(fy)
    for step in dump.steps:
        rows["project_plan_step"].add(project_key=key, fiscal_year=fy, step_no=step.step_no,
                                      description_th=step.description_th, weight_pct=step.weight_pct,
                                      start_date=step.start_date, end_date=step.end_date, source_file=source,
                                      document_fiscal_year=fy)


def _text(value: object) -> str | None:
    if value is None:
        return None
    return value.isoformat() if hasattr(value, "isoformat") else str(value)
