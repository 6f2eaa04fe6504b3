-- Printed "spent" discrepancies: the source system prints the SUM of the running totals as "spent";
-- compare it with the true figure, the last running total.
WITH last_total AS (
    SELECT project_key, arg_max(cumulative_disbursed_thb, report_no) AS last_running_total_thb,
           sum(cumulative_disbursed_thb) AS sum_of_running_totals_thb
    FROM fact_disbursement GROUP BY 1
)
SELECT p.project_key, p.fiscal_year, p.district_id, p.budget_thb, p.reported_spent_thb,
       l.last_running_total_thb, l.sum_of_running_totals_thb,
       p.reported_spent_thb = l.sum_of_running_totals_thb AS printed_is_sum_of_totals
FROM dim_project p JOIN last_total l USING (project_key)
WHERE p.reported_spent_thb IS DISTINCT FROM l.last_running_total_thb
ORDER BY p.fiscal_year, p.project_key
