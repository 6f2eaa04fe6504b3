"""Typed Arrow tables: the warehouse's, what is staged per document, and the resolved identities."""

from __future__ import annotations

from dataclasses import fields

import pyarrow as pa

from common.records import Reference
from load.calendar import SCHEMA as DATE_SCHEMA
from load.calendar import date_table
from transform.entities import Resolution

MONEY = pa.decimal128(18, 2)
PCT = pa.decimal128(5, 2)
# what a web progress page prints under its title (NULL for the other layouts)
HEADLINE_FIELDS = (pa.field("headline_progress_pct", PCT), pa.field("headline_as_of", pa.date32()),
                   pa.field("evaluation_quarter", pa.int32()), pa.field("evaluation_score", PCT))

SCHEMAS: dict[str, pa.Schema] = {
    "dim_district": pa.schema([("district_id", pa.string()), ("name_th", pa.string()), ("name_en", pa.string())]),
    "dim_date": DATE_SCHEMA,
    "dim_network": pa.schema([("network_no", pa.int32()), ("district_id", pa.string())]),
    "dim_school": pa.schema([("school_id", pa.string()), ("name_th", pa.string()), ("network_no", pa.int32()),
                             ("district_id", pa.string()), ("in_registry", pa.bool_())]),
    "dim_coordinator": pa.schema([("coordinator_id", pa.string()), ("name_th", pa.string()),
                                  ("title_th", pa.string()), ("phone", pa.string())]),
    "dim_officer": pa.schema([("officer_id", pa.string()), ("name_th", pa.string()), ("title_th", pa.string()),
                              ("phone", pa.string()), ("position_th", pa.string())]),
    "dim_agency": pa.schema([("agency_code", pa.string()), ("name_th", pa.string()), ("level", pa.string()),
                             ("district_id", pa.string()), ("name_printed_th", pa.string())]),
    "dim_project": pa.schema([
        ("project_key", pa.string()), ("project_code", pa.string()), ("fiscal_year", pa.int32()),
        ("name_th", pa.string()), ("agency_code", pa.string()), ("district_id", pa.string()), ("budget_thb", MONEY),
        ("reported_spent_thb", MONEY), ("start_date", pa.date32()), ("end_date", pa.date32()),
        ("officer_id", pa.string()), ("coordinator_id", pa.string()), ("source_layout", pa.string()),
        ("unit_th", pa.string()), ("source_file", pa.string()), *HEADLINE_FIELDS,
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
    "fact_network_event": pa.schema([
        ("project_key", pa.string()), ("fiscal_year", pa.int32()), ("report_no", pa.int32()),
        ("report_date", pa.date32()), ("network_no", pa.int32()), ("event", pa.string()), ("amount_thb", MONEY),
        ("reason_th", pa.string()), ("sentence_th", pa.string()), ("source_file", pa.string()),
    ]),
    "mart_network_year": pa.schema([
        ("network_no", pa.int32()), ("district_id", pa.string()), ("district_th", pa.string()),
        ("fiscal_year", pa.int32()), ("projects", pa.int32()), ("allotted_thb", MONEY), ("disbursed", pa.string()),
        ("said_in_project_key", pa.string()), ("said_in_report_no", pa.int32()), ("said_on", pa.date32()),
        ("last_event", pa.string()), ("last_event_date", pa.date32()), ("reason_th", pa.string()),
    ]),
    "project_plan_step": pa.schema([
        ("project_key", pa.string()), ("fiscal_year", pa.int32()), ("step_no", pa.int32()),
        ("description_th", pa.string()), ("weight_pct", PCT), ("start_date", pa.date32()), ("end_date", pa.date32()),
        ("source_file", pa.string()),
    ]),
    "audit_value_vote": pa.schema([
        ("project_key", pa.string()), ("fiscal_year", pa.int32()), ("report_no", pa.int32()), ("field", pa.string()),
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
    "pull_ledger": pa.schema([
        ("run_id", pa.string()), ("source", pa.string()), ("remote_path", pa.string()), ("etag", pa.string()),
        ("last_modified", pa.string()), ("size_bytes", pa.int64()), ("content_sha256", pa.string()),
        ("landed_path", pa.string()), ("status", pa.string()), ("error", pa.string()),
        ("pulled_at", pa.timestamp("us", tz="UTC")),
    ]),
}
FACT_TABLES = ("fact_monthly_progress", "fact_disbursement", "fact_network_event")
STAGED_TABLES = (*FACT_TABLES, "audit_value_vote", "project_plan_step")  # built per dump, streamed to disk
# Every table of STAGED_TABLES is published in <table>/fiscal_year=<BE>/ folders, the year in the folder's name
# only (as pyarrow's, Spark's and polars' partitioned writers lay it out): a column both in the files and in
# the folder names is refused by pandas.read_parquet and pyarrow.parquet.read_table ("Unable to merge").
PARTITION_COLUMN = "fiscal_year"


def file_schema(name: str) -> pa.Schema:
    """The schema of a published table's Parquet files: its own, without the partition column of a yearly one."""
    schema = SCHEMAS[name]
    if name in STAGED_TABLES:
        return schema.remove(schema.get_field_index(PARTITION_COLUMN))
    return schema

# what the parsing workers stage per document besides the facts: read by sql/staging and sql/marts
WORK_SCHEMAS: dict[str, pa.Schema] = {
    "stg_doc": pa.schema([
        ("source_file", pa.string()), ("project_key", pa.string()), ("project_code", pa.string()),
        ("fiscal_year", pa.int32()), ("name_th", pa.string()), ("agency_code", pa.string()),
        ("agency_th", pa.string()), ("district_id", pa.string()),
        ("budget_thb", MONEY), ("reported_spent_thb", MONEY), ("start_date", pa.date32()),
        ("end_date", pa.date32()), ("source_layout", pa.string()), ("unit_th", pa.string()),
        ("officer_key", pa.string()), ("coordinator_key", pa.string()), ("networks", pa.list_(pa.int32())),
        ("n_reports", pa.int32()), ("n_filled", pa.int32()), ("renderings", pa.int32()), *HEADLINE_FIELDS,
    ]),
    "stg_doc_dq": pa.schema([("source_file", pa.string()), ("check_name", pa.string()), ("severity", pa.string()),
                             ("detail", pa.string())]),
    "stg_doc_alias": SCHEMAS["entity_alias"],
    "stg_person_mention": pa.schema([("source_file", pa.string()), ("entity_type", pa.string()),
                                     ("person_key", pa.string()), ("raw_text", pa.string()), ("name_th", pa.string())]),
    "stg_school_mention": pa.schema([("source_file", pa.string()), ("raw_text", pa.string()), ("name_th", pa.string()),
                                     ("district_id", pa.string()), ("network_no", pa.int32()), ("tail", pa.string()),
                                     ("same_line", pa.bool_())]),
    # each file of a chunk: what the store's index keeps (status: 'loaded' or 'quarantined'), and this run's
    # ledger status ('unchanged' for a file parsed again whose content did not change)
    "stg_files": pa.schema([("source_file", pa.string()), ("content_sha256", pa.string()), ("size_bytes", pa.int64()),
                            ("mtime_ns", pa.int64()), ("inode", pa.int64()), ("status", pa.string()),
                            ("reason", pa.string()), ("layout", pa.string()), ("run_status", pa.string())]),
}
# the resolved identities, registered in DuckDB for the marts to join
LOOKUP_SCHEMAS: dict[str, pa.Schema] = {
    "person_rule": pa.schema([("signature_key", pa.string()), ("name_th", pa.string()), ("person_id", pa.string()),
                              ("family", pa.string()), ("canonical_name", pa.string()), ("score", pa.float64()),
                              ("method", pa.string())]),
    "school_rule": pa.schema([("raw_text", pa.string()), ("name_th", pa.string()), ("district_id", pa.string()),
                              ("network_no", pa.int32()), ("tail", pa.string()), ("same_line", pa.bool_()),
                              ("spelled", pa.string()), ("school_id", pa.string()), ("canonical_name", pa.string()),
                              ("score", pa.float64()), ("method", pa.string()), ("finding", pa.string())]),
    "network_home": pa.schema([("network_no", pa.int32()), ("district_id", pa.string())]),
    "agency_ref": pa.schema([("agency_code", pa.string()), ("name_th", pa.string()), ("level", pa.string()),
                             ("district_id", pa.string())]),
}


# staged with every row of a yearly table (STAGED_TABLES): the fiscal year of its document, the partition it
# goes to; chunks are written sorted by it (a row group per year), so a year's rows are read without the others
DOCUMENT_YEAR = pa.field("document_fiscal_year", pa.int32())


class Columns:
    """Rows of one table gathered column by column (Arrow builds columns far faster than dict rows)."""

    def __init__(self, name: str, extra: tuple[pa.Field, ...] = ()):
        self.schema = pa.schema([*(SCHEMAS.get(name) or WORK_SCHEMAS[name]), *extra])
        self.data: dict[str, list] = {f.name: [] for f in self.schema}

    def add(self, **row: object) -> None:
        for column, values in self.data.items():
            values.append(row.get(column))

    def __len__(self) -> int:
        return len(next(iter(self.data.values())))

    def table(self) -> pa.Table:
        return pa.table([pa.array(self.data[f.name], type=f.type) for f in self.schema], schema=self.schema)


def arrow_tables(rows: dict[str, Columns]) -> dict[str, pa.Table]:
    return {name: columns.table() for name, columns in rows.items()}


def dimension_tables(resolution: Resolution, reference: Reference) -> dict[str, pa.Table]:
    """The tables that come whole from the resolved identities (the rest are assembled in DuckDB)."""
    rows: dict[str, list[dict]] = {
        "dim_district": [{"district_id": d.district_id, "name_th": d.name_th, "name_en": d.name_en}
                         for d in sorted(reference.districts, key=lambda d: d.district_id)],
        "dim_network": [{"network_no": n, "district_id": d} for n, d in resolution.networks.items()],
        "dim_school": [{"school_id": s.school_id, "name_th": s.name_th, "network_no": s.network_no,
                        "district_id": s.district_id, "in_registry": s.in_registry} for s in resolution.schools],
        "dim_coordinator": [{"coordinator_id": p.person_id, "name_th": p.name_th, "title_th": p.title_th,
                             "phone": p.phone} for p in resolution.persons if p.family == "coordinator"],
        "dim_officer": [{"officer_id": p.person_id, "name_th": p.name_th, "title_th": p.title_th, "phone": p.phone,
                         "position_th": p.position_th} for p in resolution.persons if p.family != "coordinator"],
        "entity_review": [record_dict(r) for r in resolution.reviews],
        "entity_registry": [{**record_dict(r), "spellings": list(r.spellings)} for r in resolution.registry],
    }
    tables = {name: pa.Table.from_pylist(table_rows, schema=SCHEMAS[name]) for name, table_rows in rows.items()}
    return {**tables, "dim_date": date_table()}


def lookup_tables(resolution: Resolution, reference: Reference) -> dict[str, pa.Table]:
    """The resolved identities as the marts join them: rules per signature and spelling, network homes; and the
    reference list of agencies (dim_agency adds what the documents print)."""
    return {
        "agency_ref": pa.Table.from_pylist([record_dict(a) for a in reference.agencies],
                                           schema=LOOKUP_SCHEMAS["agency_ref"]),
        "person_rule": pa.Table.from_pylist([record_dict(r) for r in resolution.person_rules],
                                            schema=LOOKUP_SCHEMAS["person_rule"]),
        "school_rule": pa.Table.from_pylist([record_dict(r) for r in resolution.school_rules],
                                            schema=LOOKUP_SCHEMAS["school_rule"]),
        "network_home": pa.Table.from_pylist(
            [{"network_no": no, "district_id": district} for no, district in resolution.networks.items() if district],
            schema=LOOKUP_SCHEMAS["network_home"]),
    }


def record_dict(record: object) -> dict:
    """A flat record's fields (not asdict: it deep-copies every value)."""
    return {f.name: getattr(record, f.name) for f in fields(record)}  # type: ignore[arg-type]
