"""Load: Parquet files and the DuckDB file analysts open."""
