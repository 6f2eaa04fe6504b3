-- The person each signature resolved to (every spelling of a signature resolves to the same person).
SELECT DISTINCT signature_key, person_id
FROM person_rule
