-- The networks a project's chosen source names.
SELECT project_key, network_no
FROM (
    SELECT project_key, unnest(networks) AS network_no
    FROM project_source
    WHERE source_rank = 1
)
ORDER BY project_key, network_no
