"""Deciding each value by agreement across renderings, then the derived values of a report series."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal

from common.records import Finding, ReportEntry, Vote
from transform.values import add_months, first_of_month

NOTE_FIELD = "note"


def decide(values: Sequence[object]) -> tuple[object, bool]:
    """Plurality of the values; (value, settled). A tie at the top is unsettled and decides None."""
    if not values:
        return None, True
    first = values[0]
    if all(v == first for v in values):  # the usual case, every rendering agreeing, without a tally
        return first, True
    ranked = Counter(values).most_common()
    if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
        return None, False
    return ranked[0][0], True


def decide_note(values: Sequence[str | None]) -> str | None:
    """Narratives are cut differently by each rendering: the most common, then the longest."""
    texts = [v for v in values if v]
    if not texts:
        return None
    counts = Counter(texts)
    return max(counts, key=lambda t: (counts[t], len(t), t))


def consensus_across_renderings(votes: Iterable[Vote], source_file: str, whole_series: bool = True,
                                ) -> tuple[list[ReportEntry], list[Finding]]:
    """Votes of every rendering -> one ReportEntry per report number, with findings for disagreements.

    whole_series: the layout prints every report so far (the printed form), so a gap in the numbers is a
    finding; a web page prints only its latest report."""
    by_key: dict[tuple[int, str], list[Vote]] = {}
    for vote in votes:
        by_key.setdefault((vote.report_no, vote.field), []).append(vote)
    report_nos = sorted({no for no, _ in by_key})
    findings: list[Finding] = []
    decided: dict[int, dict[str, object]] = {no: {} for no in report_nos}
    unsettled_dates: dict[int, dict[str, list[object]]] = {}  # tied dates and running totals
    for (no, name), field_votes in sorted(by_key.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        values = [v.value for v in field_votes]
        if name == NOTE_FIELD:
            decided[no][name] = decide_note(values)  # type: ignore[arg-type]
            continue
        value, settled = decide(values)
        if not settled:
            if name in ("date", "cumulative_thb"):
                unsettled_dates.setdefault(no, {})[name] = values
                continue
            findings.append(_disagreement(no, name, field_votes))
        decided[no][name] = value
    for no, tied in unsettled_dates.items():
        for name, values in tied.items():
            chosen = _settle_by_order(no, name, values, decided)
            decided[no][name] = chosen
            if chosen is None:
                findings.append(_disagreement(no, name, by_key[(no, name)]))
            elif name == "date":
                findings.append(Finding.of("date_settled_by_order", f"report {no}: renderings tied on the date "
                                           f"({_tally(by_key[(no, 'date')])}); {chosen.isoformat()} is the only "
                                           "one in order with its neighbours"))
            else:
                findings.append(Finding.of("total_settled_by_order", f"report {no}: renderings tied on the running "
                                           f"total ({_tally(by_key[(no, name)])}); {chosen:,} is the only one "
                                           "that keeps the series from going down"))
    missing = sorted(set(range(1, max(report_nos, default=0) + 1)) - set(report_nos)) if whole_series else []
    if missing:
        findings.append(Finding.of("report_numbers_missing",
                                   f"no rendering holds report(s) {', '.join(map(str, missing))}"))
    return build_entries(decided, findings), findings


def build_entries(decided: dict[int, dict[str, object]], findings: list[Finding]) -> list[ReportEntry]:
    """Decided values -> entries with period month (imputed where the date is missing) and increments."""
    nos = sorted(decided)
    dates = {no: decided[no].get("date") for no in nos}
    months = impute_period_months([(no, dates[no]) for no in nos])  # type: ignore[misc]
    cumulative = {no: decided[no].get("cumulative_thb") for no in nos}
    # a running total that goes down is kept as printed: the published facts' check running_total_never_decreases
    # reports it (once: no finding is recorded here for the same fault)
    increments = decumulate_disbursements([(no, cumulative[no]) for no in nos])  # type: ignore[misc]
    return [
        ReportEntry(
            report_no=no,
            date=dates[no],  # type: ignore[arg-type]
            period_month=months[no][0],
            month_imputed=months[no][1],
            progress_pct=decided[no].get("progress_pct"),  # type: ignore[arg-type]
            cumulative_thb=cumulative[no],  # type: ignore[arg-type]
            disbursed_thb=increments.get(no),
            plan_status=decided[no].get("plan_status"),  # type: ignore[arg-type]
            target_status=decided[no].get("target_status"),  # type: ignore[arg-type]
            note_th=decided[no].get(NOTE_FIELD),  # type: ignore[arg-type]
        )
        for no in nos
    ]


def decumulate_disbursements(series: Sequence[tuple[int, Decimal | None]]) -> dict[int, Decimal]:
    """Running totals -> increment since the previous known running total (the first: itself).

    Summing the increments gives back the last running total.
    """
    out: dict[int, Decimal] = {}
    previous = Decimal(0)
    for no, total in series:
        if total is None:
            continue
        out[no] = total - previous
        previous = total
    return out


def impute_period_months(series: Sequence[tuple[int, date | None]]) -> dict[int, tuple[date | None, bool]]:
    """First day of each report's month; a missing date takes its month from its neighbours (imputed)."""
    out: dict[int, tuple[date | None, bool]] = {}
    known = [(i, d) for i, (_, d) in enumerate(series) if d is not None]
    for i, (no, day) in enumerate(series):
        if day is not None:
            out[no] = (first_of_month(day), False)
            continue
        before = [(j, d) for j, d in known if j < i]
        after = [(j, d) for j, d in known if j > i]
        guess: date | None = None
        if before:
            j, d = before[-1]
            guess = add_months(d, i - j)
            if after and guess >= first_of_month(after[0][1]):
                guess = None  # no room between the neighbours: leave it unknown
        elif after:
            j, d = after[0]
            guess = add_months(d, -(j - i))
        out[no] = (guess, guess is not None)
    return out


def _settle_by_order(no: int, name: str, values: list[object], decided: dict[int, dict[str, object]]) -> object:
    """Among tied values, the only one in order with the decided neighbours, if exactly one: a date strictly
    between theirs, a running total between theirs (equal allowed: a total often stays the same)."""
    kind = date if name == "date" else Decimal
    top = Counter(values).most_common()
    best = top[0][1]
    candidates = [v for v, c in top if c == best and isinstance(v, kind)]
    lower = max((d[name] for n, d in decided.items() if n < no and isinstance(d.get(name), kind)), default=None)
    upper = min((d[name] for n, d in decided.items() if n > no and isinstance(d.get(name), kind)), default=None)
    if name == "date":
        fitting = [c for c in candidates if (lower is None or c > lower) and (upper is None or c < upper)]
    else:
        fitting = [c for c in candidates if (lower is None or c >= lower) and (upper is None or c <= upper)]
    return fitting[0] if len(fitting) == 1 else None


def _tally(votes: list[Vote]) -> str:
    return "; ".join(f"rendering {v.rendering}: {_show(v.value)}" for v in votes)


def _show(value: object) -> str:
    return "absent" if value is None else value.isoformat() if isinstance(value, date) else str(value)


def _disagreement(no: int, name: str, votes: list[Vote]) -> Finding:
    return Finding.of("unsettled_disagreement",
                      f"report {no} {name}: renderings disagree with no majority ({_tally(votes)}); stored NULL")


def printed_spent_finding(printed: Decimal | None, reports: Sequence[ReportEntry]) -> Finding | None:
    """The printed 'spent' figure is the sum of running totals in the source system: flag it when it
    disagrees with the last running total."""
    totals = [r.cumulative_thb for r in reports if r.cumulative_thb is not None]
    if printed is None or not totals or printed == totals[-1]:
        return None
    explanation = (" (it equals the sum of the running totals, the source system's known error)"
                   if printed == sum(totals, Decimal(0)) else "")
    return Finding.of("printed_spent_mismatch",
                      f"printed spent {printed:,} differs from the last running total {totals[-1]:,}{explanation}")
