-- severity: error
-- Keys unique: one monthly-progress row per project and report number.
SELECT project_key, min(source_file) AS source_file,
       'report ' || report_no || ' appears ' || count(*) || ' times' AS detail
FROM fact_monthly_progress GROUP BY project_key, report_no HAVING count(*) > 1
