"""dim_date: every day of the fiscal years analysts ask about, in the Common Era and the Buddhist Era, with the
Thai fiscal year (October to September) and Thai month names, so no query computes them again."""

from __future__ import annotations

from datetime import date, timedelta

import pyarrow as pa

from transform.values import BE_OFFSET, THAI_MONTHS, fiscal_year_of

FIRST_FISCAL_YEAR, LAST_FISCAL_YEAR = 2550, 2600  # BE: 2006-10-01 .. 2057-09-30
MONTH_NAMES = {month: name for name, month in THAI_MONTHS.items()}
MONTH_SHORT = {1: "ม.ค.", 2: "ก.พ.", 3: "มี.ค.", 4: "เม.ย.", 5: "พ.ค.", 6: "มิ.ย.", 7: "ก.ค.", 8: "ส.ค.", 9: "ก.ย.",
               10: "ต.ค.", 11: "พ.ย.", 12: "ธ.ค."}
SCHEMA = pa.schema([
    ("day", pa.date32()), ("year_ce", pa.int32()), ("year_be", pa.int32()), ("month", pa.int32()),
    ("month_th", pa.string()), ("month_short_th", pa.string()), ("first_of_month", pa.date32()),
    ("fiscal_year", pa.int32()), ("fiscal_month", pa.int32()), ("fiscal_quarter", pa.int32()),
    ("label_be", pa.string()),
])


def date_table() -> pa.Table:
    """One row per day of fiscal years FIRST_FISCAL_YEAR..LAST_FISCAL_YEAR (BE)."""
    start = date(FIRST_FISCAL_YEAR - BE_OFFSET - 1, 10, 1)
    end = date(LAST_FISCAL_YEAR - BE_OFFSET, 9, 30)
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    fiscal_month = [(d.month - 10) % 12 + 1 for d in days]
    columns = {
        "day": days, "year_ce": [d.year for d in days], "year_be": [d.year + BE_OFFSET for d in days],
        "month": [d.month for d in days], "month_th": [MONTH_NAMES[d.month] for d in days],
        "month_short_th": [MONTH_SHORT[d.month] for d in days], "first_of_month": [d.replace(day=1) for d in days],
        "fiscal_year": [fiscal_year_of(d) for d in days], "fiscal_month": fiscal_month,
        "fiscal_quarter": [(m - 1) // 3 + 1 for m in fiscal_month],
        "label_be": [f"{MONTH_SHORT[d.month]} {d.year + BE_OFFSET}" for d in days],
    }
    return pa.table(columns, schema=SCHEMA)
