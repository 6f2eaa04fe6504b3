-- Monthly disbursement timeline: money disbursed per month across all projects (sum of increments).
SELECT period_month, fiscal_year, count(DISTINCT project_key) AS projects_reporting,
       sum(disbursed_thb) AS disbursed_thb
FROM fact_disbursement
WHERE period_month IS NOT NULL
GROUP BY ALL
ORDER BY period_month
