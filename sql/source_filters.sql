-- Heuristic source filters (paper §A.1 / vero600k_format.md §7.1): a source is dropped when it has fewer than
-- min_rows rows, less than min_avg_pixels average resolution, or only yes/no answers.
-- Inputs: `meta` (one row per validated sample), `thresholds` (manifest, min_rows, min_avg_pixels, drop_binary_only).
SELECT
    m.manifest,
    count(*)                                                   AS n_rows,
    avg(m.pixels)                                              AS avg_pixels,
    bool_and(lower(trim(m.answer)) IN ('yes', 'no'))           AS binary_only,
    CASE
        WHEN count(*) < t.min_rows THEN 'source_too_small'
        WHEN avg(m.pixels) < t.min_avg_pixels THEN 'source_low_resolution'
        WHEN t.drop_binary_only AND bool_and(lower(trim(m.answer)) IN ('yes', 'no')) THEN 'source_binary_only'
    END                                                        AS reason
FROM meta AS m
JOIN thresholds AS t USING (manifest)
GROUP BY m.manifest, t.min_rows, t.min_avg_pixels, t.drop_binary_only
ORDER BY m.manifest;
