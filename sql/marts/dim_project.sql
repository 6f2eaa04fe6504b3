-- One row per project, from its chosen source, with the people its officer and coordinator resolved to.
SELECT
    s.project_key,
    s.project_code,
    s.fiscal_year,
    s.name_th,
    s.agency_code,
    s.district_id,
    s.budget_thb,
    s.reported_spent_thb,
    s.start_date,
    s.end_date,
    o.person_id AS officer_id,
    c.person_id AS coordinator_id,
    s.source_layout,
    s.unit_th,
    s.source_file,
    s.headline_progress_pct,
    s.headline_as_of,
    s.evaluation_quarter,
    s.evaluation_score
FROM project_source AS s
LEFT JOIN person_of AS o ON o.signature_key = s.officer_key
LEFT JOIN person_of AS c ON c.signature_key = s.coordinator_key
WHERE s.source_rank = 1
ORDER BY s.project_key
