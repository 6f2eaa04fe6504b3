"""schoolnet: ETL pipeline and warehouse for BMA school-network project reports.

The door for Python and notebooks, from any working directory:

    import schoolnet
    con = schoolnet.connect("data/warehouse")          # read-only DuckDB (queries only)
    con.sql("FROM mart_network_year WHERE disbursed = 'no'").df()
    df = schoolnet.read_table("fact_disbursement")    # a whole table as a pandas DataFrame
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

__version__ = "0.1.0"
__all__ = ["connect", "read_table", "tables"]

if TYPE_CHECKING:
    import pandas as pd

    from load.door import ReadOnlyConnection

DEFAULT_WAREHOUSE = "data/warehouse"


def _folder(warehouse_dir: str | os.PathLike | None) -> Path:
    return Path(warehouse_dir or os.environ.get("SCHOOLNET_WAREHOUSE_DIR") or DEFAULT_WAREHOUSE).expanduser()


def connect(warehouse_dir: str | os.PathLike | None = None) -> ReadOnlyConnection:
    """A read-only connection to the warehouse (default: $SCHOOLNET_WAREHOUSE_DIR, else data/warehouse): every
    table by its bare name, from any working directory, a moved or copied folder included. Only reads run;
    DuckDB sees no file outside the warehouse."""
    from load.door import ReadOnlyConnection, open_warehouse

    return ReadOnlyConnection(open_warehouse(_folder(warehouse_dir)))


def tables(warehouse_dir: str | os.PathLike | None = None) -> list[str]:
    """The warehouse's tables."""
    with connect(warehouse_dir) as con:
        return [r[0] for r in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal "
                                          "ORDER BY 1").fetchall()]


def read_table(name: str, warehouse_dir: str | os.PathLike | None = None) -> pd.DataFrame:
    """One whole table as a pandas DataFrame, typed as pandas.read_parquet types the table's files: money exact
    (decimal.Decimal, never a float), dates as dates, ids as text."""
    known = tables(warehouse_dir)
    if name not in known:
        raise KeyError(f"no table {name!r} in the warehouse; its tables: {', '.join(known)}")
    with connect(warehouse_dir) as con:
        relation = con.sql(f"FROM {name}")
        table = relation.to_arrow_table() if hasattr(relation, "to_arrow_table") else relation.arrow()
        return table.to_pandas()
