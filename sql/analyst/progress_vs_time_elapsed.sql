-- Progress against time: at each project's latest dated report, how far along is the work compared
-- with the share of the project period that has elapsed?
SELECT p.project_key, p.fiscal_year, m.report_no, m.report_date, m.progress_pct,
       round(100.0 * (m.report_date - p.start_date) / nullif(p.end_date - p.start_date, 0), 1) AS time_elapsed_pct,
       round(m.progress_pct - 100.0 * (m.report_date - p.start_date) / nullif(p.end_date - p.start_date, 0), 1)
           AS ahead_by_pct
FROM (
    SELECT *, row_number() OVER (PARTITION BY project_key ORDER BY report_no DESC) AS recency
    FROM fact_monthly_progress WHERE report_date IS NOT NULL
) m
JOIN dim_project p USING (project_key)
WHERE m.recency = 1 AND p.start_date IS NOT NULL AND p.end_date IS NOT NULL
ORDER BY ahead_by_pct, p.project_key
