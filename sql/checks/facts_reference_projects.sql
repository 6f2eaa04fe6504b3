-- severity: error
-- Foreign keys resolve: every fact row's project is in dim_project, every project's district exists.
SELECT f.project_key, f.source_file, 'fact row without a dim_project row' AS detail
FROM fact_monthly_progress f LEFT JOIN dim_project p USING (project_key) WHERE p.project_key IS NULL
UNION ALL
SELECT p.project_key, p.source_file, 'district_id ' || p.district_id || ' not in dim_district'
FROM dim_project p LEFT JOIN dim_district d USING (district_id)
WHERE p.district_id IS NOT NULL AND d.district_id IS NULL
