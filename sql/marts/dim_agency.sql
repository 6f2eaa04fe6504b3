-- Every BMA agency: the reference list (bma_agencies.csv: the departments and the 50 district offices) and any
-- other agency a project's code names. name_th is the list's name (its own when the list does not have it);
-- name_printed_th the name the agency's projects print most often (a department renamed since the list was made
-- prints its new name: 18000000 is listed as สำนักผังเมือง and printed as สำนักการวางผังและพัฒนาเมือง). An agency
-- neither listed nor printed by name (a code alone) has no name.
WITH printed AS (
    SELECT agency_code, agency_th, count(*) AS n
    FROM project_source
    WHERE source_rank = 1 AND agency_code IS NOT NULL
    GROUP BY ALL
),
most_printed AS (
    SELECT agency_code, arg_max(agency_th, (agency_th IS NOT NULL, n, agency_th)) AS name_printed_th
    FROM printed
    GROUP BY agency_code
)
SELECT
    coalesce(r.agency_code, p.agency_code) AS agency_code,
    coalesce(r.name_th, p.name_printed_th) AS name_th,
    coalesce(r.level, CASE WHEN regexp_full_match(p.agency_code, '50[0-9]{2}0000') THEN 'district_office'
                           ELSE 'department' END) AS level,
    coalesce(r.district_id, CASE WHEN regexp_full_match(p.agency_code, '50[0-9]{2}0000')
                                 THEN left(p.agency_code, 4) END) AS district_id,
    p.name_printed_th
FROM agency_ref AS r
FULL OUTER JOIN most_printed AS p USING (agency_code)
ORDER BY agency_code
