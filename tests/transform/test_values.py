from datetime import date
from decimal import Decimal

import pytest

from transform.values import (
    add_months,
    fiscal_year_from_user,
    fiscal_year_of,
    normalize_phone,
    parse_amount,
    parse_be_date,
    parse_iso_datetime,
    parse_percent,
    parse_thai_month_year,
)


@pytest.mark.parametrize("text, expected", [
    ("90,000 บาท", Decimal("90000")), ("90,000.-", Decimal("90000")), ("๙๐,๐๐๐.- บาท", Decimal("90000")),
    ("360,000 บาท", Decimal("360000")), ("32,200", Decimal("32200")), ("0 บาท", Decimal("0")),
    ("1,234.50", Decimal("1234.50")), ("ไม่มี", None),
])
def test_amounts(text, expected):
    assert parse_amount(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("5.00 %", Decimal("5.00")), ("100.0%", Decimal("100.00")), ("10.00", Decimal("10.00")),
    ("๒๐", Decimal("20.00")), ("", None),
])
def test_percentages(text, expected):
    assert parse_percent(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("29/10/2563", date(2020, 10, 29)), ("10/1/2563", date(2020, 1, 10)), ("24/2/2563", date(2020, 2, 24)),
    ("๒๙/๑๐/๒๕๖๓", date(2020, 10, 29)), (":: 26/01/2564 :", date(2021, 1, 26)), ("ไม่มีวันที่", None),
])
def test_be_dates(text, expected):
    assert parse_be_date(text) == expected


def test_impossible_be_date_raises():
    with pytest.raises(ValueError):
        parse_be_date("31/02/2564")


@pytest.mark.parametrize("text, expected", [
    ("2020-10-01 00:00:00", date(2020, 10, 1)), ("2021-09-29 00:00:00", date(2021, 9, 29)), ("", None),
])
def test_iso_dates(text, expected):
    assert parse_iso_datetime(text) == expected


@pytest.mark.parametrize("text, end, expected", [
    ("เดือนตุลาคม ๒๕๖๑", False, date(2018, 10, 1)), ("เดือนกรกฎาคม ๒๕๖๒", True, date(2019, 7, 31)),
    ("กุมภาพันธ์ 2567", True, date(2024, 2, 29)),
])
def test_thai_month_year(text, end, expected):
    assert parse_thai_month_year(text, end_of_month=end) == expected


@pytest.mark.parametrize("day, fy", [
    (date(2020, 10, 1), 2564), (date(2021, 9, 30), 2564), (date(2020, 9, 30), 2563), (date(2022, 12, 30), 2566),
])
def test_fiscal_year_of(day, fy):
    assert fiscal_year_of(day) == fy


@pytest.mark.parametrize("given_year, be", [(2564, 2564), (2021, 2564), (2566, 2566), (2023, 2566)])
def test_fiscal_year_from_user(given_year, be):
    assert fiscal_year_from_user(given_year) == be


@pytest.mark.parametrize("given_year, be", [(2500, 2500), (1957, 2500), (2643, 2643), (2100, 2643), (1999, 2542)])
def test_fiscal_year_from_user_range_ends(given_year, be):
    assert fiscal_year_from_user(given_year) == be


@pytest.mark.parametrize("nonsense", [64, 1800, 1956, 2101, 2499, 2644, 25640])
def test_fiscal_year_from_user_rejects_nonsense(nonsense):
    with pytest.raises(ValueError, match="not a fiscal year"):
        fiscal_year_from_user(nonsense)


@pytest.mark.parametrize("text, expected", [
    ("เบอร์โทร 6425", "6425"), ("(โทร.02 6289067)", "026289067"), ("โทร ๑๕๑๒", "1512"), ("ไม่มี", None),
])
def test_phones(text, expected):
    assert normalize_phone(text) == expected


def test_add_months_crosses_years():
    assert add_months(date(2020, 12, 15), 1) == date(2021, 1, 1)
    assert add_months(date(2021, 1, 26), -2) == date(2020, 11, 1)
