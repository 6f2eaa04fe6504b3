-- Identities to review: borderline name pairs and schools not in the BMA registry, with the evidence,
-- and every spelling they were seen with. An analyst settles them in data/reference/overrides.csv.
SELECT r.entity_type, r.decision, r.left_id, r.left_name, r.right_id, r.right_name, r.score, r.evidence,
       (SELECT list(DISTINCT a.raw_text ORDER BY a.raw_text) FROM entity_alias a WHERE a.canonical_id = r.left_id)
           AS left_spellings
FROM entity_review r
ORDER BY r.entity_type, r.decision, r.left_name
