-- Every raw spelling of every district, person and school in every file, with the identity it resolved
-- to: district aliases were decided per document; people and schools by the rules of identity resolution.
-- Built per document (a run computes the rows of new and changed documents; every row again when a rule
-- that old documents use has changed). Not sorted: rows come file by file.
SELECT entity_type, raw_text, canonical_id, canonical_name, score, method, source_file
FROM (
    SELECT entity_type, raw_text, canonical_id, canonical_name, score, method, source_file
    FROM stg_doc_alias
    UNION ALL
    SELECT m.entity_type, m.raw_text, r.person_id, r.canonical_name, r.score, r.method, m.source_file
    FROM stg_person_mention AS m
    LEFT JOIN person_rule AS r ON r.signature_key = m.person_key AND r.name_th = m.name_th
    UNION ALL
    SELECT 'school', raw_text, school_id, canonical_name, score, method, source_file
    FROM school_mention_resolved
)
