-- Rows, sources and mean image size per category and split of the exported dataset.
SELECT m.split, m.category, count(*) AS rows, count(DISTINCT m.manifest) AS sources,
       round(avg(s.pixels)) AS avg_pixels
FROM mixture AS m JOIN samples AS s USING (id)
GROUP BY m.split, m.category
ORDER BY m.split, m.category;
