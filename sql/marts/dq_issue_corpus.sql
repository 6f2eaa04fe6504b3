-- Data-quality findings of the corpus as a whole: projects reported by several files (duplicates), sources
-- without a fiscal year, networks placed in another district than elsewhere, and quarantined files.
-- Recomputed whole every run (from the documents' rows and this run's file list: no per-mention data).
WITH chosen AS (
    SELECT source_file, project_key FROM project_source WHERE source_rank = 1
),
network_placements AS (
    SELECT DISTINCT source_file, district_id, network_no
    FROM (SELECT source_file, district_id, unnest(networks) AS network_no FROM stg_doc)
    WHERE district_id IS NOT NULL
)
SELECT source_file, project_key, 'duplicate_project_source' AS check_name, 'warning' AS severity,
    source_file || ' reports the same project as ' || winner_file || '; the more complete ' || winner_file
    || ' is loaded, ' || source_file || ' contributes no facts' AS detail
FROM project_source
WHERE source_rank > 1
UNION ALL
SELECT source_file, project_key, 'fiscal_year_missing', 'error',
    'no fiscal year: facts of this dump are not loaded'
FROM project_source
WHERE source_rank = 1 AND fiscal_year IS NULL
UNION ALL
SELECT p.source_file, c.project_key, 'network_in_two_districts', 'warning',
    'network ' || p.network_no || ' is in district ' || h.district_id || ' elsewhere, ' || p.district_id
    || ' here; kept ' || h.district_id
FROM network_placements AS p
JOIN network_home AS h ON h.network_no = p.network_no AND h.district_id <> p.district_id
LEFT JOIN chosen AS c USING (source_file)
UNION ALL
SELECT source_file, CAST(NULL AS VARCHAR), 'quarantined', 'error', reason
FROM run_files
WHERE status = 'quarantined'
