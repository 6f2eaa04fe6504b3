-- severity: error
-- Keys unique: one row per project_key in dim_project.
SELECT project_key AS project_key, NULL AS source_file,
       'project_key appears ' || count(*) || ' times in dim_project' AS detail
FROM dim_project GROUP BY project_key HAVING count(*) > 1
