-- Money disbursed (a project's last running total) is not above the budget received. The printed "spent" is not
-- compared: the source system prints the sum of the running totals there, which printed_spent_mismatch reports
-- (one finding per fault).
SELECT p.project_key, p.source_file,
       'last running total ' || f.last_total || ' above budget ' || p.budget_thb AS detail
FROM dim_project p
JOIN (SELECT project_key, arg_max(cumulative_disbursed_thb, report_no) AS last_total FROM fact_disbursement GROUP BY 1) f
    USING (project_key)
WHERE f.last_total > p.budget_thb
