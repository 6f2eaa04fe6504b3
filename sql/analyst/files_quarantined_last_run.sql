-- Files quarantined by the latest run, and why.
SELECT source_file, reason, content_sha256
FROM ingest_ledger
WHERE run_id = (SELECT max(run_id) FROM ingest_ledger) AND status = 'quarantined'
ORDER BY source_file
