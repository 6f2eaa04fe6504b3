-- This run's row for every file it saw. The earlier runs' rows are their own files, kept as they are
-- (linked from the previous version): a run writes only its own rows, however long the history.
SELECT i.run_id, l.source_file, l.content_sha256, l.status, l.reason, l.layout, i.recorded_at
FROM stg_ledger AS l
CROSS JOIN run_info AS i
