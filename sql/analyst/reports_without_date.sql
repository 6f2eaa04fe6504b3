-- Reports without a date: the month stored for them is imputed from the neighbouring reports.
SELECT project_key, fiscal_year, report_no, period_month, month_imputed, progress_pct, source_file
FROM fact_monthly_progress
WHERE report_date IS NULL
ORDER BY project_key, report_no
