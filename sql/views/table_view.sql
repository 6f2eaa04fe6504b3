-- One analyst-facing view per warehouse table, over its Parquet files ({table} and {glob} are
-- filled in by load/publish.py: a validated identifier and a quoted literal; in warehouse.duckdb the
-- path is relative to the warehouse folder).
CREATE OR REPLACE VIEW {table} AS
SELECT * FROM read_parquet({glob}, hive_partitioning = false, union_by_name = true);
