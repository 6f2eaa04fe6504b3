-- Coordinator workload: how many projects and districts each evaluation coordinator follows per year.
SELECT c.coordinator_id, c.name_th, c.phone, p.fiscal_year,
       count(*) AS projects, count(DISTINCT p.district_id) AS districts
FROM dim_project p
JOIN dim_coordinator c USING (coordinator_id)
GROUP BY ALL
ORDER BY p.fiscal_year, projects DESC, c.name_th
