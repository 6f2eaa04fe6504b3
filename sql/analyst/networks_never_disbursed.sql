-- Networks that never disbursed: networks whose projects report no money disbursed at all
-- (no running total above zero in any report).
SELECT b.network_no, n.district_id, p.fiscal_year, p.project_key,
       coalesce(max(f.cumulative_disbursed_thb), 0) AS last_running_total_thb
FROM bridge_project_network b
JOIN dim_project p USING (project_key)
LEFT JOIN dim_network n USING (network_no)
LEFT JOIN fact_disbursement f USING (project_key)
WHERE p.source_layout <> 'proposal'
GROUP BY ALL
HAVING coalesce(max(f.cumulative_disbursed_thb), 0) = 0
ORDER BY b.network_no, p.fiscal_year
