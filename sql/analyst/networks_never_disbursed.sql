-- Networks that never disbursed, and why: the school networks whose reports' last word in a fiscal year is that
-- they did not disburse (and none says they did), with the reason the narrative gives and the report that said
-- so. A network whose reports say nothing of its money is not among them (mart_network_year.disbursed =
-- 'unknown'): a missing figure is not a non-disbursement.
SELECT m.network_no, m.district_id, m.district_th, m.fiscal_year, m.allotted_thb, m.reason_th,
       m.said_in_project_key AS project_key, m.said_in_report_no AS report_no, m.said_on AS report_date
FROM mart_network_year m
WHERE m.disbursed = 'no'
ORDER BY m.fiscal_year, m.network_no
