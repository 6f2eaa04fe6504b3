from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from common.records import Vote
from transform.consensus import (
    consensus_across_renderings,
    decide,
    decumulate_disbursements,
    impute_period_months,
)


def test_plurality_wins_and_ties_are_unsettled():
    assert decide(["a", "a", "b"]) == ("a", True)
    assert decide(["a", "b"]) == (None, False)
    assert decide([]) == (None, True)


def test_absent_is_a_vote():
    assert decide([None, None, date(2021, 3, 26)]) == (None, True)


def test_unsettled_disagreement_is_a_finding_not_a_pick():
    votes = [Vote(1, "progress_pct", 1, Decimal("10")), Vote(1, "progress_pct", 2, Decimal("20"))]
    entries, findings = consensus_across_renderings(votes, "x.txt")
    assert entries[0].progress_pct is None
    assert [f.check_name for f in findings] == ["unsettled_disagreement"]


def test_tied_date_settled_only_by_order_with_neighbours():
    votes = [Vote(1, "date", 1, date(2021, 1, 5)), Vote(3, "date", 1, date(2021, 3, 5)),
             Vote(2, "date", 1, date(2021, 2, 5)), Vote(2, "date", 2, date(2021, 4, 5))]
    entries, findings = consensus_across_renderings(votes, "x.txt")
    assert entries[1].date == date(2021, 2, 5)
    assert findings[0].check_name == "date_settled_by_order"


def test_missing_report_numbers_are_reported():
    votes = [Vote(1, "progress_pct", 1, Decimal(5)), Vote(3, "progress_pct", 1, Decimal(9))]
    _, findings = consensus_across_renderings(votes, "x.txt")
    assert any(f.check_name == "report_numbers_missing" and "2" in f.detail for f in findings)


def test_decumulate_running_totals():
    series = [(1, Decimal(0)), (2, Decimal(0)), (3, Decimal(90000)), (4, Decimal(90000)), (5, None),
              (6, Decimal(180000))]
    assert decumulate_disbursements(series) == {1: 0, 2: 0, 3: 90000, 4: 0, 6: 90000}


@given(st.lists(st.one_of(st.none(), st.integers(min_value=0, max_value=10**9)), max_size=20))
def test_increments_sum_to_the_last_running_total(totals):
    series = [(i + 1, None if t is None else Decimal(t)) for i, t in enumerate(totals)]
    increments = decumulate_disbursements(series)
    known = [t for t in totals if t is not None]
    assert sum(increments.values(), Decimal(0)) == (known[-1] if known else 0)


def test_missing_month_is_imputed_from_neighbours():
    months = impute_period_months([(4, date(2021, 1, 26)), (5, None), (6, date(2021, 3, 26))])
    assert months[5] == (date(2021, 2, 1), True)
    assert months[4] == (date(2021, 1, 1), False)


def test_no_room_between_neighbours_leaves_month_unknown():
    months = impute_period_months([(1, date(2021, 1, 2)), (2, None), (3, date(2021, 1, 28))])
    assert months[2] == (None, False)


def test_leading_and_trailing_missing_months():
    months = impute_period_months([(1, None), (2, date(2021, 3, 2)), (3, None)])
    assert months[1] == (date(2021, 2, 1), True)
    assert months[3] == (date(2021, 4, 1), True)
