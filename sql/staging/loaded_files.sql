-- The files whose facts are loaded: each project's chosen source, when it has a fiscal year.
SELECT source_file
FROM project_source
WHERE source_rank = 1 AND fiscal_year IS NOT NULL
