-- This run's row for every file it saw. The earlier runs' rows are their own files, kept as they are
-- (linked from the previous version): a run writes only its own rows, however long the history.
SELECT i.run_id, f.source_file, f.content_sha256, f.status, f.reason, f.layout, i.recorded_at
FROM run_files AS f
CROSS JOIN run_info AS i
