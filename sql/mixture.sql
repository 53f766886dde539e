-- Mixture: per-source caps (manifest `target`), then per-category quotas (uniform by default: the paper's best mix,
-- vero600k_format.md §6). Ranking uses `mix_key` = sha256(seed:id), so the pick is deterministic by seed and
-- independent of ingestion order. Rows of a non-train split are not subject to quotas.
-- Inputs: `candidates` (id, manifest, category, split, target, mix_key), `quotas` (category, quota).
WITH capped AS (
    SELECT c.*, row_number() OVER (PARTITION BY c.manifest, c.split ORDER BY c.mix_key, c.id) AS source_rank
    FROM candidates AS c
),
within_cap AS (
    SELECT * FROM capped WHERE target IS NULL OR source_rank <= target OR split <> 'train'
),
ranked AS (
    SELECT w.*, row_number() OVER (PARTITION BY w.category, w.split ORDER BY w.mix_key, w.id) AS category_rank
    FROM within_cap AS w
)
SELECT r.id, r.manifest, r.category, r.split, r.mix_key
FROM ranked AS r
LEFT JOIN quotas AS q USING (category)
WHERE r.split <> 'train' OR q.quota IS NULL OR r.category_rank <= q.quota
ORDER BY r.split, r.mix_key, r.id;
