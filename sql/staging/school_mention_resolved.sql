-- Every school mention of every file with the school it resolved to (the rules come from resolution: one
-- per distinct spelling, district, network, following words and line). A mention without a rule is text
-- that only looked like a listing item (a sentence after a listing cut short): it names no school.
SELECT m.source_file, r.spelled AS raw_text, r.school_id, r.canonical_name, r.score, r.method, r.finding
FROM stg_school_mention AS m
JOIN school_rule AS r
    ON r.raw_text = m.raw_text
    AND r.name_th = m.name_th
    AND r.district_id IS NOT DISTINCT FROM m.district_id
    AND r.network_no IS NOT DISTINCT FROM m.network_no
    AND r.tail = m.tail
    AND r.same_line = m.same_line
