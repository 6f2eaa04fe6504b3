-- A report's date lies within its fiscal year (BE year Y runs from 1 October of CE Y-544 to 30 September
-- of CE Y-543).
SELECT project_key, source_file,
       'report ' || report_no || ' dated ' || report_date || ', outside fiscal year ' || fiscal_year AS detail
FROM fact_monthly_progress
WHERE report_date < make_date(fiscal_year - 544, 10, 1) OR report_date > make_date(fiscal_year - 543, 9, 30)
