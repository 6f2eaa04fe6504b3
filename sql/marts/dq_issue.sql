-- Data-quality findings: of each document (parsing, district, printed spent), of identity resolution
-- (schools not in the registry, networks placed in two districts), of project sources (duplicates,
-- missing fiscal year) and of quarantined files. A finding names its project when the file is the
-- project's chosen source. (The SQL checks on the new version append their own rows.) Not sorted, like
-- entity_alias: the rows of each kind come in the staged order, file by file.
WITH chosen AS (
    SELECT source_file, project_key FROM project_source WHERE source_rank = 1
),
school_findings AS (
    SELECT DISTINCT source_file, school_id, finding
    FROM school_mention_resolved
    WHERE finding IS NOT NULL
),
network_placements AS (
    SELECT DISTINCT source_file, district_id, network_no
    FROM (SELECT source_file, district_id, unnest(networks) AS network_no FROM stg_doc)
    WHERE district_id IS NOT NULL
),
findings AS (
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
    SELECT f.source_file, c.project_key, f.check_name, f.severity, f.detail
    FROM stg_doc_dq AS f
    LEFT JOIN chosen AS c USING (source_file)
    UNION ALL
    SELECT f.source_file, c.project_key, 'school_not_in_registry', 'warning', f.finding
    FROM school_findings AS f
    LEFT JOIN chosen AS c USING (source_file)
    UNION ALL
    SELECT p.source_file, c.project_key, 'network_in_two_districts', 'warning',
        'network ' || p.network_no || ' is in district ' || h.district_id || ' elsewhere, ' || p.district_id
        || ' here; kept ' || h.district_id
    FROM network_placements AS p
    JOIN network_home AS h ON h.network_no = p.network_no AND h.district_id <> p.district_id
    LEFT JOIN chosen AS c USING (source_file)
    UNION ALL
    SELECT source_file, CAST(NULL AS VARCHAR), 'quarantined', 'error', reason
    FROM stg_ledger
    WHERE status = 'quarantined'
)
SELECT source_file, project_key, check_name, severity, detail
FROM findings
