"""Normalisers for the values of a report: digits, amounts, percentages, dates, phones, Thai text."""

from __future__ import annotations

import calendar
import re
import unicodedata
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from pythainlp.util import normalize as thai_normalize

BE_OFFSET = 543
THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
THAI_MONTHS = {
    "มกราคม": 1, "กุมภาพันธ์": 2, "มีนาคม": 3, "เมษายน": 4, "พฤษภาคม": 5, "มิถุนายน": 6,
    "กรกฎาคม": 7, "สิงหาคม": 8, "กันยายน": 9, "ตุลาคม": 10, "พฤศจิกายน": 11, "ธันวาคม": 12,
}
_TONE_MARKS = "\u0e48\u0e49\u0e4a\u0e4b\u0e4c\u0e47"  # ่ ้ ๊ ๋ ์ ็ : what OCR most often drops or swaps
_SPACES = re.compile(r"\s+")
_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\ufeff]")


_THAI_DIGIT_RUN = re.compile("[\u0e50-\u0e59]+")


def thai_digits_to_arabic(text: str) -> str:
    """'๒๕๖๒' -> '2562'; other characters unchanged."""
    # str.translate walks every character of a long Thai text slowly; only the digit runs need it
    return _THAI_DIGIT_RUN.sub(lambda m: m.group(0).translate(THAI_DIGITS), text)


CACHED_UP_TO = 120  # characters: names and labels recur across documents, paragraphs hardly ever do


def normalize_thai(text: str) -> str:
    """Canonical form of Thai text for comparison: OCR-split vowels joined, digits Arabic, spaces single.

    Idempotent. Unlike rapidfuzz's default_process it keeps vowels and tone marks.
    """
    # one large cache of every paragraph seen grew a parsing worker with the corpus (measured: 480 MB at
    # 100,000 documents): many short texts (names, labels) are remembered, few long ones (boilerplate)
    return _normalize_short(text) if len(text) <= CACHED_UP_TO else _normalize_long(text)


@lru_cache(maxsize=1 << 16)
def _normalize_short(text: str) -> str:
    return _normalize(text)


@lru_cache(maxsize=1 << 10)
def _normalize_long(text: str) -> str:
    return _normalize(text)


def _normalize(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    text = _ZERO_WIDTH.sub("", text)
    # OCR writes sara am as nikhahit + sara aa, a tone mark possibly between them: ํ(่)า -> ่ำ
    text = re.sub("\u0e4d([\u0e48-\u0e4b]?)\u0e32", "\\1\u0e33", text)
    text = text.replace("\u0e40\u0e40", "\u0e41")  # เ + เ -> แ
    text = _SPACES.sub(" ", thai_digits_to_arabic(text)).strip()
    # pythainlp: duplicated marks removed, a tone mark typed before its vowel reordered, stray marks dropped;
    # one pass can leave a new stack of marks behind, so repeat until nothing changes
    for _ in range(8):
        fixed = _SPACES.sub(" ", thai_normalize(text)).strip()
        if fixed == text:
            break
        text = fixed
    return text


_INLINE_SPACES = re.compile(r"[ \u00a0\u2000-\u200a\u3000]+")


def normalize_thai_text(text: str) -> str:
    """normalize_thai for a whole document: the same character fixes, but lines and tabs are kept."""
    text = unicodedata.normalize("NFC", text)
    text = _ZERO_WIDTH.sub("", text)
    text = re.sub("\u0e4d([\u0e48-\u0e4b]?)\u0e32", "\\1\u0e33", text)
    text = text.replace("\u0e40\u0e40", "\u0e41").replace("\r\n", "\n").replace("\r", "\n")
    return _INLINE_SPACES.sub(" ", thai_digits_to_arabic(text))


def tone_skeleton(text: str) -> str:
    """normalize_thai without tone marks: two spellings differing only by a tone mark share it."""
    return _skeleton_short(text) if len(text) <= CACHED_UP_TO else _skeleton(text)


@lru_cache(maxsize=1 << 16)
def _skeleton_short(text: str) -> str:
    return _skeleton(text)


def _skeleton(text: str) -> str:
    return "".join(ch for ch in normalize_thai(text) if ch not in _TONE_MARKS)


MONEY_LIMIT = Decimal("1e16")  # DECIMAL(18,2) holds less; no BMA budget comes near
PERCENT_LIMIT = Decimal("1000")  # DECIMAL(5,2) holds less


def parse_amount(text: str) -> Decimal | None:
    """'90,000.-' / '๙๐,๐๐๐' / '32,200 บาท' -> Decimal; None when there is no number.

    Raises ValueError for an amount no warehouse column can hold (an OCR run-on of digits)."""
    m = re.search(r"-?\d[\d,]*(?:\.\d+)?", thai_digits_to_arabic(text))
    if not m:
        return None
    try:
        value = Decimal(m.group(0).replace(",", "")).quantize(Decimal("0.01"))
    except InvalidOperation:
        return None
    if abs(value) >= MONEY_LIMIT:
        raise ValueError(f"amount {m.group(0)} is beyond any plausible budget")
    return value


def parse_percent(text: str) -> Decimal | None:
    """'5.00 %', '100.0%', '10.00' (the % sign is sometimes missing) -> Decimal with 2 places.

    Raises ValueError for 1000 or more (no column can hold it; 100-999 are kept and flagged later)."""
    m = re.search(r"\d+(?:[.,]\d+)?", thai_digits_to_arabic(text))
    if not m:
        return None
    value = Decimal(m.group(0).replace(",", "."))
    if value >= PERCENT_LIMIT:
        raise ValueError(f"percentage {m.group(0)} is not a percentage")
    return value.quantize(Decimal("0.01"))


def be_year_to_ce(year: int) -> int:
    """Buddhist-Era year to Common Era; a year that is already CE (< 2400) is returned unchanged."""
    return year - BE_OFFSET if year >= 2400 else year


def parse_be_date(text: str) -> date | None:
    """'29/10/2563' or '10/1/2563' (day first, BE, month may be unpadded) -> date(2020, 10, 29).

    Raises ValueError for a well-formed but impossible date such as 31/02/2564.
    Returns None when no d/m/y pattern is present.
    """
    m = re.search(r"(\d{1,2})\s*/\s*(\d{1,2})\s*/\s*(\d{4})", thai_digits_to_arabic(text))
    if not m:
        return None
    day, month, year = (int(g) for g in m.groups())
    return date(be_year_to_ce(year), month, day)


def parse_iso_datetime(text: str) -> date | None:
    """'2020-10-01 00:00:00' -> date(2020, 10, 1); None when absent. Raises ValueError when impossible."""
    m = re.search(r"(\d{4})-(\d{1,2})-(\d{1,2})", thai_digits_to_arabic(text))
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
    """'เบอร์โทร 6425' -> '6425'; '(โทร.02 6289067)' -> '026289067'; None when no digits."""
    digits = re.sub(r"\D", "", thai_digits_to_arabic(text))
    return digits or None
