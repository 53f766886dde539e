-- Category tagging: the category comes from the source's manifest (Vero's `ability` spellings are mapped to ours);
-- the sub-tag comes from the reward type and question patterns (counting vs grounding vs search, …).
-- Input: `samples` (id, data_source, category, reward_type, question) and `reward_subtags` (reward_type, subtag,
-- subtag_unless), one row per registered verifier (vero_data.rewards.base.subtag_rows): each type's sub-tag is
-- written with its verifier. The question patterns live here, tried in order; a type's `subtag_unless` names the
-- patterns that win over its sub-tag (an unregistered type yields to all of them, then is `open_answer`).
-- Output: id, category, subtag.
WITH ability(alias, category) AS (
    VALUES ('knowledge_recognition', 'knowledge'), ('knowledge_rec', 'knowledge'),
           ('counting_grounding_search', 'grounding_counting_search'),
           ('visual_alignment', 'captioning_if'), ('instruction_following', 'captioning_if')
)
SELECT
    s.id,
    coalesce(a.category, s.category) AS category,
    CASE
        WHEN coalesce(list_contains(r.subtag_unless, 'counting'), true)
         AND regexp_matches(lower(s.question), '^\s*(how many|count|what is the (total )?number of)') THEN 'counting'
        WHEN coalesce(list_contains(r.subtag_unless, 'spatial_relation'), true)
         AND regexp_matches(lower(s.question), '\b(left|right|above|below|behind|in front of)\b') THEN 'spatial_relation'
        ELSE coalesce(r.subtag, 'open_answer')
    END AS subtag
FROM samples AS s
LEFT JOIN ability AS a ON a.alias = s.category
LEFT JOIN reward_subtags AS r ON r.reward_type = s.reward_type
ORDER BY s.id;
