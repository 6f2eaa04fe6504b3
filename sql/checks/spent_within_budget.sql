-- Money disbursed (the last running total) or printed as spent is not above the budget received.
SELECT p.project_key, p.source_file,
       'last running total ' || f.last_total || ' above budget ' || p.budget_thb AS detail
FROM dim_project p
JOIN (SELECT project_key, arg_max(cumulative_disbursed_thb, report_no) AS last_total FROM fact_disbursement GROUP BY 1) f
    USING (project_key)
WHERE f.last_total > p.budget_thb
UNION ALL
SELECT project_key, source_file, 'printed spent ' || reported_spent_thb || ' above budget ' || budget_thb
FROM dim_project WHERE reported_spent_thb > budget_thb
