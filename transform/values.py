"""The values of a report as the warehouse stores them: amounts, percentages, dates (BE and CE), fiscal years,
phones; and the one way a value that cannot be read becomes a finding."""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import TypeVar

from common.records import Finding
from common.text import normalize_thai, thai_digits_to_arabic

T = TypeVar("T")

PROJECT_CODE = r"\d{8}-\d{4}"  # AAAAAAAA-NNNN: the agency (50XX0000 a district office, else a department) and a number
BE_OFFSET = 543
THAI_MONTHS = {
    "มกราคม": 1, "กุมภาพันธ์": 2, "มีนาคม": 3, "เมษายน": 4, "พฤษภาคม": 5, "มิถุนายน": 6,
    "กรกฎาคม": 7, "สิงหาคม": 8, "กันยายน": 9, "ตุลาคม": 10, "พฤศจิกายน": 11, "ธันวาคม": 12,
}
MONEY_LIMIT = Decimal("1e16")  # DECIMAL(18,2) holds less; no BMA budget comes near
PERCENT_LIMIT = Decimal("1000")  # DECIMAL(5,2) holds less


# the same few thousand values recur across renderings and documents: each is read once per worker
# (a value that cannot be read raises again every time: exceptions are not cached)
_VALUES_CACHED = 1 << 14
_AMOUNT = re.compile(r"-?\d[\d,]*(?:\.\d+)?")
_PERCENT = re.compile(r"\d+(?:[.,]\d+)?")
_BE_DATE = re.compile(r"(\d{1,2})\s*/\s*(\d{1,2})\s*/\s*(\d{4})")
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_CENTS = Decimal("0.01")


# what a scan reads after the end of a unit's line, apart from it: specks as digits, Latin letters, a lone consonant
# ('สำนักงานเขตวัฒนา / ฝ่ายการศึกษา / ฝ่ายการศึกษา 1', 'สำนักงานเขตดินแดง 7 ณ ฮ'); no unit's name ends so
_UNIT_SPECKS = re.compile(r"(?:\s+(?:[0-9A-Za-z|]{1,2}|[ก-ฮ]))+\s*$")


def unit_name(text: str) -> str | None:
    """A unit as printed ('สำนักงานเขตวัฒนา / ฝ่ายการศึกษา / ฝ่ายการศึกษา'), without a scan's specks after it."""
    return _UNIT_SPECKS.sub("", normalize_thai(text)) or None


@lru_cache(maxsize=_VALUES_CACHED)
def parse_amount(text: str) -> Decimal | None:
    """'90,000.-' / '๙๐,๐๐๐' / '32,200 บาท' -> Decimal; None when there is no number.

    Raises ValueError for an amount no warehouse column can hold (an OCR run-on of digits)."""
    m = _AMOUNT.search(thai_digits_to_arabic(text))
    if not m:
        return None
    try:
        value = Decimal(m.group(0).replace(",", "")).quantize(_CENTS)
    except InvalidOperation:
        return None
    if abs(value) >= MONEY_LIMIT:
        raise ValueError(f"amount {m.group(0)} is beyond any plausible budget")
    return value


@lru_cache(maxsize=_VALUES_CACHED)
def parse_percent(text: str) -> Decimal | None:
    """'5.00 %', '100.0%', '10.00' (the % sign is sometimes missing) -> Decimal with 2 places.

    Raises ValueError for 1000 or more (no column can hold it; 100-999 are kept and flagged later)."""
    m = _PERCENT.search(thai_digits_to_arabic(text))
    if not m:
        return None
    value = Decimal(m.group(0).replace(",", "."))
    if value >= PERCENT_LIMIT:
        raise ValueError(f"percentage {m.group(0)} is not a percentage")
    return value.quantize(_CENTS)


def be_year_to_ce(year: int) -> int:
    """Buddhist-Era year to Common Era; a year that is already CE (< 2400) is returned unchanged."""
    return year - BE_OFFSET if year >= 2400 else year


@lru_cache(maxsize=_VALUES_CACHED)
def parse_be_date(text: str) -> date | None:
    """'29/10/2563' or '10/1/2563' (day first, BE, month may be unpadded) -> date(2020, 10, 29).

    Raises ValueError for a well-formed but impossible date such as 31/02/2564.
    Returns None when no d/m/y pattern is present.
    """
    m = _BE_DATE.search(thai_digits_to_arabic(text))
    if not m:
        return None
    day, month, year = (int(g) for g in m.groups())
    return date(be_year_to_ce(year), month, day)


@lru_cache(maxsize=_VALUES_CACHED)
def parse_iso_datetime(text: str) -> date | None:
    """'2020-10-01 00:00:00' -> date(2020, 10, 1); None when absent. Raises ValueError when impossible."""
    m = _ISO_DATE.search(thai_digits_to_arabic(text))
    if not m:
        return None
    return datetime(int(m.group(1)), int(m.group(2)), int(m.group(3))).date()


def parse_thai_month_year(text: str, *, end_of_month: bool = False) -> date | None:
    """'เดือนตุลาคม ๒๕๖๑' -> date(2018, 10, 1) (or the month's last day with end_of_month)."""
    text = thai_digits_to_arabic(text)
    for name, month in THAI_MONTHS.items():
        m = re.search(name + r"\s*(?:พ\.ศ\.)?\s*(\d{4})", text)
        if m:
            year = be_year_to_ce(int(m.group(1)))
            day = calendar.monthrange(year, month)[1] if end_of_month else 1
            return date(year, month, day)
    return None


def fiscal_year_of(day: date) -> int:
    """Thai fiscal year (BE) of a date: FY 2564 runs 2020-10-01 .. 2021-09-30."""
    return day.year + BE_OFFSET + (1 if day.month >= 10 else 0)


# The fiscal years a user may ask for: BE 2500-2643 (CE fiscal years 1957-2100). Anything else is a typo
# (1800, 64, 25640), refused before a run starts, by the CLI and by the deployment's parameter schema.
FISCAL_YEAR_BE_MIN, FISCAL_YEAR_BE_MAX = 2500, 2643


def fiscal_year_from_user(year: int) -> int:
    """A fiscal year as users type it, BE (2564) or CE fiscal-year-ending (2021), -> BE.

    Raises ValueError outside BE 2500-2643 / CE 1957-2100."""
    be = year if year >= FISCAL_YEAR_BE_MIN else year + BE_OFFSET
    if FISCAL_YEAR_BE_MIN <= be <= FISCAL_YEAR_BE_MAX:
        return be
    raise ValueError(f"{year} is not a fiscal year: give BE {FISCAL_YEAR_BE_MIN}-{FISCAL_YEAR_BE_MAX} (e.g. 2564) "
                     f"or CE {FISCAL_YEAR_BE_MIN - BE_OFFSET}-{FISCAL_YEAR_BE_MAX - BE_OFFSET} (e.g. 2021)")


def first_of_month(day: date) -> date:
    return day.replace(day=1)


def add_months(day: date, months: int) -> date:
    """First day of the month `months` after day's month."""
    index = day.year * 12 + (day.month - 1) + months
    return date(index // 12, index % 12 + 1, 1)


def normalize_phone(text: str) -> str | None:
    """The first phone number of a printed phone, digits only: 'เบอร์โทร 6425' -> '6425', '(โทร.02 6289067)' ->
    '026289067'; a range of extensions ('6822-3', '3347-49') -> its first; an extension ('... ต่อ 15') or a
    second number ('... หรือโทร. 2556') is not part of it. None when there is no digit."""
    m = _PHONE_NUMBER.search(thai_digits_to_arabic(text))
    if not m:
        return None
    groups = [g for g in re.split(r"[ -]+", m.group(0)) if g]
    if len(groups) > 1 and len(groups[-1]) <= 2 and len(groups[-2]) >= 3:  # '6822-3': the end of a range
        groups = groups[:-1]
    return "".join(groups)


_PHONE_NUMBER = re.compile(r"\d[\d -]*\d|\d")


def read_value(parse: Callable[[str], T | None], raw: str) -> tuple[T | None, str | None]:
    """(parse(raw), None), or (None, why) when raw cannot be such a value (parse raised ValueError)."""
    try:
        return parse(raw), None
    except ValueError as exc:
        return None, str(exc)


def implausible(where: str, raw: str, why: str) -> Finding:
    """The finding for a value that cannot be read: it is stored NULL, and this says where and why."""
    return Finding.of("implausible_value", f"{where}: {raw!r} cannot be read ({why}); stored NULL")


def read_or_find(parse: Callable[[str], T | None], raw: str, where: str, findings: list[Finding]) -> T | None:
    """parse(raw); or None and an implausible_value finding (in findings) when it cannot be read."""
    value, why = read_value(parse, raw)
    if why is not None:
        findings.append(implausible(where, raw, why))
    return value
