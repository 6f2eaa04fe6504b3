"""Every data-quality finding the warehouse can hold (dq_issue.check_name), its severity and what it means:
one list, used by the code that records findings, by the SQL tests, and by the data dictionary."""

from __future__ import annotations

from dataclasses import dataclass

ERROR, WARNING = "error", "warning"


@dataclass(frozen=True)
class Check:
    name: str
    severity: str  # 'error': the data is wrong or missing; 'warning': kept as printed, worth a look
    meaning: str


CHECKS: tuple[Check, ...] = (
    # reading a document (transform/)
    Check("implausible_value", WARNING, "a value that cannot be what it claims (a date that does not exist, a "
          "number beyond what its column holds, an OCR run-on of digits): stored NULL"),
    Check("impossible_date", WARNING, "a report date that does not exist (31/02/2564): the rendering votes "
          "'absent'"),
    Check("increment_unknown", WARNING, "a scan's report whose running total is read and the one before it is "
          "not (OCR left it unread): the report's increment is not known and stored NULL, its running total kept"),
    Check("networks_beyond_count", WARNING, "a scan names more networks than it says it has ('เครือข่ายโรงเรียน 1 "
          "เครือข่าย'): the ones it names far less often than the rest, OCR misreads of a network's number, are "
          "left out"),
    Check("unsettled_disagreement", WARNING, "the renderings of a dump disagree on a value with no majority: "
          "stored NULL"),
    Check("renderings_disagree", WARNING, "the renderings disagree on a header value: the majority is stored"),
    Check("date_settled_by_order", WARNING, "renderings tied on a report date; the one candidate in order with "
          "its neighbours is stored"),
    Check("total_settled_by_order", WARNING, "renderings (or OCR passes) tied on a running total; the one candidate "
          "that keeps the series from going down between its neighbours is stored"),
    Check("unknown_status", WARNING, "a status phrase that fits no plan or target status"),
    Check("report_numbers_missing", WARNING, "no rendering holds some report numbers of the series"),
    Check("budget_missing", WARNING, "a proposal with no budget amount"),
    Check("plan_weights_not_100", WARNING, "the step weights of a web page's plan do not add up to 100 %"),
    Check("printed_spent_mismatch", WARNING, "the printed 'spent' differs from the last running total (the "
          "source system prints the sum of the running totals)"),
    Check("district_code_name_mismatch", WARNING, "the project code names another district than the text; the "
          "code's is kept"),
    Check("district_resolved_fuzzily", WARNING, "the district mentions spell no district exactly; all of them "
          "together point to one"),
    Check("district_unresolved", WARNING, "the district could not be told from the mentions"),
    Check("agency_unresolved", WARNING, "a document without a project code prints an agency that is no department "
          "of the reference list: its project has no agency"),
    # the corpus (sql/marts/dq_issue_corpus.sql)
    Check("duplicate_project_source", WARNING, "another file reports the same project; the more complete file "
          "is loaded, this one contributes no facts"),
    Check("fiscal_year_from_period", WARNING, "no fiscal year could be read from a PDF or scan (misread, or its "
          "passes disagree): the Buddhist-Era year its project period ends in is stored"),
    Check("fiscal_year_missing", ERROR, "no fiscal year: the dump's facts are not loaded"),
    Check("school_not_in_registry", WARNING, "a school named in a network listing that the BMA registry of its "
          "district does not have (a new or renamed school); kept as spelled, listed in entity_review"),
    Check("network_in_two_districts", WARNING, "a network placed in another district than elsewhere; the first "
          "file's district is kept"),
    Check("quarantined", ERROR, "the file is not a report of a known layout, or cannot be read: not loaded"),
    Check("warehouse_file_changed", WARNING, "warehouse.duckdb was changed since the last run wrote it (an analyst's "
          "tables or views in a read-write session): kept aside as warehouse.duckdb.changed-<run>, not replaced "
          "silently"),
    Check("published_file_changed", WARNING, "a file of the published version was added, replaced or removed "
          "since the run that published it (the version is read-only to the runs): not carried on, the new version "
          "is built whole from the document store"),
    # the tests of the published tables (sql/models.toml)
    Check("unique", ERROR, "a key that must be unique appears more than once"),
    Check("not_null", ERROR, "a column that must be filled is NULL"),
    Check("accepted_values", ERROR, "a value outside a column's closed vocabulary"),
    Check("relationships", ERROR, "a reference to a row that does not exist (a fact without its project, a "
          "project without its district)"),
    Check("progress_within_0_100", ERROR, "progress outside 0-100 %"),
    Check("progress_never_decreases", WARNING, "progress below the report before (kept as printed)"),
    Check("running_total_never_decreases", ERROR, "a running total below the report before"),
    Check("report_dates_within_fiscal_year", WARNING, "a report dated outside its fiscal year"),
    Check("spent_within_budget", WARNING, "disbursed (the last running total) above the budget received"),
    Check("disbursed_networks_match_running_total", WARNING, "the allotments of the networks a project's narratives "
          "say disbursed do not add up to its last running total"),
)
BY_NAME: dict[str, Check] = {c.name: c for c in CHECKS}


def check(name: str) -> Check:
    """The check of that name; a name not in the list is a programming error, caught by the tests."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise KeyError(f"{name!r} is not a known finding (common/findings.py lists them)") from None
