-- One analyst-facing view per warehouse table, over its Parquet files ({table} and {glob} are
-- filled in by load/warehouse.py: a validated identifier and a quoted literal).
CREATE OR REPLACE VIEW {table} AS
SELECT * FROM read_parquet({glob}, hive_partitioning = false, union_by_name = true);
