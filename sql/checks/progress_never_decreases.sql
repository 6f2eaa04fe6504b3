-- Progress is cumulative: it never goes down from one report to the next (kept as printed, flagged).
SELECT project_key, source_file,
       'report ' || report_no || ': progress ' || progress_pct || ' % after ' || prev || ' %' AS detail
FROM (
    SELECT *, lag(progress_pct) OVER (PARTITION BY project_key ORDER BY report_no) AS prev
    FROM fact_monthly_progress
) WHERE progress_pct < prev
