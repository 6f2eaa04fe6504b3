-- Projects behind plan: the latest report of each project is off plan, or on plan but to be monitored.
SELECT p.fiscal_year, p.project_key, p.name_th, p.district_id, m.report_no, m.report_date, m.progress_pct,
       m.plan_status, m.target_status
FROM (
    SELECT *, row_number() OVER (PARTITION BY project_key ORDER BY report_no DESC) AS recency
    FROM fact_monthly_progress
) m
JOIN dim_project p USING (project_key)
WHERE m.recency = 1 AND m.plan_status IN ('off_plan', 'on_plan_monitor')
ORDER BY p.fiscal_year, p.project_key
