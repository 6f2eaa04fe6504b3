-- What the narratives say was disbursed agrees with the money: the allotments of the networks said to have
-- disbursed add up to the project's last running total (dump 001: networks 54 and 55 disbursed, 90,000 each,
-- running total 180,000). Checked where every such network's allotment is stated.
WITH allotted AS (
    SELECT project_key, network_no, arg_max(amount_thb, report_no) AS allotment_thb
    FROM fact_network_event WHERE event = 'allocated' GROUP BY ALL
),
paid AS (
    SELECT DISTINCT e.project_key, e.network_no, a.allotment_thb
    FROM fact_network_event e LEFT JOIN allotted a USING (project_key, network_no)
    WHERE e.event = 'disbursed'
),
said AS (
    SELECT project_key, sum(allotment_thb) AS allotments_thb, string_agg(network_no::VARCHAR, ', ' ORDER BY network_no)
           AS networks, count(*) FILTER (allotment_thb IS NULL) AS unstated
    FROM paid GROUP BY project_key
),
money AS (
    SELECT project_key, arg_max(cumulative_disbursed_thb, report_no) AS last_total
    FROM fact_disbursement GROUP BY project_key
)
SELECT s.project_key, p.source_file,
       'networks ' || s.networks || ' are said to have disbursed, allotted ' || s.allotments_thb
       || ' together; the last running total is ' || coalesce(m.last_total::VARCHAR, 'missing') AS detail
FROM said s JOIN dim_project p USING (project_key) LEFT JOIN money m USING (project_key)
WHERE s.unstated = 0 AND m.last_total IS DISTINCT FROM s.allotments_thb
