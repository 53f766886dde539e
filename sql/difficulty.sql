-- Histogram of pass counts per category, from the `difficulty` table that `vero data filter` writes into
-- OUT/catalog.duckdb (one row per scored sample: pass_count of k, pass_rate, mean_reward, kept, drop_reason).
--   duckdb OUT/catalog.duckdb < sql/difficulty.sql
SELECT
    category,
    pass_count,
    count(*) AS rows,
    count(*) / sum(count(*)) OVER (PARTITION BY category) AS share
FROM difficulty
GROUP BY category, pass_count
ORDER BY category, pass_count;
