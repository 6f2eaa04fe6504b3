-- Budget burn by district and fiscal year: how much of the budget has been disbursed?
-- Disbursement is cumulative in the source: sum the increments (disbursed_thb), never the running totals.
SELECT p.fiscal_year,
       p.district_id,
       d.name_th AS district_th,
       count(DISTINCT p.project_key) AS projects,
       sum(p.budget_thb) AS budget_thb,
       coalesce(sum(f.disbursed), 0) AS disbursed_thb,
       round(100 * coalesce(sum(f.disbursed), 0) / nullif(sum(p.budget_thb), 0), 1) AS burn_pct
FROM dim_project p
LEFT JOIN dim_district d USING (district_id)
LEFT JOIN (SELECT project_key, sum(disbursed_thb) AS disbursed FROM fact_disbursement GROUP BY 1) f USING (project_key)
WHERE p.budget_thb IS NOT NULL
GROUP BY ALL
ORDER BY p.fiscal_year, p.district_id
