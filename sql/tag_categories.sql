-- Category tagging: the category comes from the source's manifest (Vero's `ability` spellings are mapped to ours);
-- the sub-tag comes from the reward type and question patterns (counting vs grounding vs search, …).
-- Input: `samples` (id, data_source, category, reward_type, question). Output: id, category, subtag.
WITH ability(alias, category) AS (
    VALUES ('knowledge_recognition', 'knowledge'), ('knowledge_rec', 'knowledge'),
           ('counting_grounding_search', 'grounding_counting_search'),
           ('visual_alignment', 'captioning_if'), ('instruction_following', 'captioning_if')
)
SELECT
    s.id,
    coalesce(a.category, s.category) AS category,
    CASE
        WHEN s.reward_type = 'grounding' THEN 'grounding'
        WHEN s.reward_type = 'clicking' THEN 'clicking'
        WHEN s.reward_type = 'search' THEN 'visual_search'
        WHEN s.reward_type = 'counting'
          OR regexp_matches(lower(s.question), '^\s*(how many|count|what is the (total )?number of)') THEN 'counting'
        WHEN s.reward_type = 'web_action' THEN 'ui_action'
        WHEN s.reward_type = 'number_list' THEN 'ordering'
        WHEN s.reward_type IN ('instruction_following', 'instruction_following_llm_judge') THEN 'instruction_following'
        WHEN s.reward_type = 'llm_judge' THEN 'captioning'
        WHEN regexp_matches(lower(s.question), '\b(left|right|above|below|behind|in front of)\b') THEN 'spatial_relation'
        WHEN s.reward_type = 'multiple_choice' THEN 'multiple_choice'
        WHEN s.reward_type = 'numeric' THEN 'numeric'
        ELSE 'open_answer'
    END AS subtag
FROM samples AS s
LEFT JOIN ability AS a ON a.alias = s.category
ORDER BY s.id;
