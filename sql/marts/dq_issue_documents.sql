-- Data-quality findings of documents: of parsing, of the district, of the printed "spent" (stg_doc_dq), and
-- of the schools a document names that the registry does not have. A finding names its project when the
-- file is the project's chosen source. Built per document: a run computes the rows of the documents that
-- are new, changed, or whose project changed source (the others' rows are carried over as they are).
WITH chosen AS (
    SELECT source_file, project_key FROM project_source WHERE source_rank = 1
),
school_findings AS (
    SELECT DISTINCT source_file, school_id, finding
    FROM school_mention_resolved
    WHERE finding IS NOT NULL
)
SELECT f.source_file, c.project_key, f.check_name, f.severity, f.detail
FROM stg_doc_dq AS f
LEFT JOIN chosen AS c USING (source_file)
UNION ALL
SELECT f.source_file, c.project_key, 'school_not_in_registry', 'warning', f.finding
FROM school_findings AS f
LEFT JOIN chosen AS c USING (source_file)
