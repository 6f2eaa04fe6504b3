-- One source per project: the most complete document (reports, filled values, renderings), then the
-- first file name. The others are duplicates: they contribute no facts, and dq_issue says so.
SELECT
    d.*,
    row_number() OVER w AS source_rank,
    first_value(d.source_file) OVER w AS winner_file
FROM stg_doc AS d
WINDOW w AS (
    PARTITION BY d.project_key
    ORDER BY d.n_reports DESC, d.n_filled DESC, d.renderings DESC, d.source_file
    ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
)
