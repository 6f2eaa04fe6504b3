-- Progress is a percentage: within 0-100.
SELECT project_key, source_file, 'report ' || report_no || ': progress ' || progress_pct || ' %' AS detail
FROM fact_monthly_progress WHERE progress_pct < 0 OR progress_pct > 100
