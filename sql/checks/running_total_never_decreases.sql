-- Running totals never decrease from one report to the next.
SELECT project_key, source_file,
       'report ' || report_no || ': running total ' || cumulative_disbursed_thb || ' after ' || prev AS detail
FROM (
    SELECT *, lag(cumulative_disbursed_thb) OVER (PARTITION BY project_key ORDER BY report_no) AS prev
    FROM fact_disbursement
) WHERE cumulative_disbursed_thb < prev
