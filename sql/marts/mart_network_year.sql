-- One row per school network per fiscal year in which a project names it: what it was allotted and whether it
-- disbursed, from what the reports' narratives say of it (fact_network_event), with the report that said so.
-- disbursed: 'yes' when a report says it disbursed; 'no' when its last word is that it did not (the reason
-- with it); 'unknown' when no report says either (a network merely without a money figure is unknown, never
-- 'no'). allotted_thb: each project's last stated allotment of it, added up over the year's projects.
WITH named AS (
    SELECT b.network_no, p.fiscal_year, count(DISTINCT b.project_key) AS projects
    FROM bridge_project_network b JOIN dim_project p USING (project_key)
    WHERE p.fiscal_year IS NOT NULL
    GROUP BY ALL
),
said AS (
    SELECT e.*, row_number() OVER (PARTITION BY e.network_no, e.fiscal_year
                                   ORDER BY e.report_date NULLS FIRST, e.report_no, e.project_key) AS nth
    FROM fact_network_event e
),
allotted AS (
    SELECT network_no, fiscal_year, sum(amount_thb) AS allotted_thb
    FROM (SELECT network_no, fiscal_year, project_key, arg_max(amount_thb, report_no) AS amount_thb
          FROM said WHERE event = 'allocated' AND amount_thb IS NOT NULL GROUP BY ALL)
    GROUP BY ALL
),
paid AS (  -- the first report that says it disbursed
    SELECT network_no, fiscal_year, arg_min(struct_pack(project_key, report_no, report_date), nth) AS said_at
    FROM said WHERE event = 'disbursed' GROUP BY ALL
),
last_word AS (
    SELECT network_no, fiscal_year,
           arg_max(struct_pack(event, project_key, report_no, report_date, reason_th), nth) AS last
    FROM said GROUP BY ALL
)
SELECT n.network_no, net.district_id, d.name_th AS district_th, n.fiscal_year, n.projects::INT AS projects,
       a.allotted_thb,
       CASE WHEN p.said_at IS NOT NULL THEN 'yes' WHEN l.last.event = 'not_disbursed' THEN 'no' ELSE 'unknown' END
           AS disbursed,
       CASE WHEN p.said_at IS NOT NULL THEN p.said_at.project_key
            WHEN l.last.event = 'not_disbursed' THEN l.last.project_key END AS said_in_project_key,
       CASE WHEN p.said_at IS NOT NULL THEN p.said_at.report_no
            WHEN l.last.event = 'not_disbursed' THEN l.last.report_no END::INT AS said_in_report_no,
       CASE WHEN p.said_at IS NOT NULL THEN p.said_at.report_date
            WHEN l.last.event = 'not_disbursed' THEN l.last.report_date END AS said_on,
       l.last.event AS last_event, l.last.report_date AS last_event_date,
       CASE WHEN p.said_at IS NULL AND l.last.event = 'not_disbursed' THEN l.last.reason_th END AS reason_th
FROM named n
LEFT JOIN dim_network net USING (network_no)
LEFT JOIN dim_district d ON d.district_id = net.district_id
LEFT JOIN allotted a USING (network_no, fiscal_year)
LEFT JOIN paid p USING (network_no, fiscal_year)
LEFT JOIN last_word l USING (network_no, fiscal_year)
ORDER BY n.network_no, n.fiscal_year
