"""The DuckDB catalog: row metadata (never image bytes) a user can open and query.

Tables: ``samples`` (one row per validated sample, with its category sub-tag and final status), ``quarantine``,
``dedup`` (removed id → kept id, rule, score), ``sources`` (per-source stats and filter decision),
``mixture`` (exported ids with split/shard/position). ``vero data build`` writes it; so can you::

    duckdb OUT/catalog.duckdb "SELECT category, subtag, count(*) FROM samples WHERE status='exported' GROUP BY ALL"
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import polars as pl

from vero_data.manifest import Manifest
from vero_data.sql import load_sql


def _reward_subtags() -> pl.DataFrame:
    """The registered verifiers' sub-tags, the table sql/tag_categories.sql joins on ``reward_type``."""
    from vero_data.rewards import subtag_rows

    return pl.DataFrame(subtag_rows(), schema={"reward_type": pl.String, "subtag": pl.String,
                                               "subtag_unless": pl.List(pl.String)})


def write_catalog(path: Path, *, meta: pl.DataFrame, quarantine: pl.DataFrame, dedup: pl.DataFrame,
                  source_stats: pl.DataFrame, mixture: pl.DataFrame, manifests: list[Manifest]) -> Path:
    import duckdb

    tmp = path.with_suffix(".tmp")
    if tmp.exists():
        tmp.unlink()
    con = duckdb.connect(str(tmp))
    try:
        samples = meta.drop("img_sha", "dhash", "lowvar", "cphash", "xphash", "lossy", "content_pixels",
                           "border_levels", strict=False).with_columns(
            pl.col("phash").list.eval(pl.element().cast(pl.String)).list.join(",").alias("phash"),
        )
        con.register("samples_in", samples)
        con.execute("CREATE TABLE samples AS SELECT * FROM samples_in")
        con.register("reward_subtags", _reward_subtags())
        tags = con.sql(load_sql("tag_categories")).pl()
        con.register("tags", tags)
        con.execute("ALTER TABLE samples ADD COLUMN subtag VARCHAR")
        con.execute("UPDATE samples SET subtag = tags.subtag, category = tags.category FROM tags "
                    "WHERE samples.id = tags.id")
        con.register("q_in", quarantine)
        con.execute("CREATE TABLE quarantine AS SELECT * FROM q_in")
        con.register("d_in", dedup)
        con.execute("CREATE TABLE dedup AS SELECT * FROM d_in")
        con.register("mix_in", mixture)
        con.execute("CREATE TABLE mixture AS SELECT * FROM mix_in")
        src = pl.DataFrame(
            [{"manifest": m.name, "data_source": m.source_name, "category": m.category, "license": m.license,
              "target": m.target, "source_kind": m.source.kind, "status": m.provenance.status} for m in manifests],
            schema={"manifest": pl.String, "data_source": pl.String, "category": pl.String, "license": pl.String,
                    "target": pl.Int64, "source_kind": pl.String, "status": pl.String},
        ).join(source_stats, on="manifest", how="left")
        con.register("src_in", src)
        con.execute("CREATE TABLE sources AS SELECT * FROM src_in")
        con.execute("ALTER TABLE samples ADD COLUMN status VARCHAR")
        con.execute(
            "UPDATE samples SET status = CASE "
            "WHEN id IN (SELECT id FROM mixture) THEN 'exported' "
            # a copy dropped for having the same id as the kept row (dup_of = id) does not make the kept row a dup
            "WHEN id IN (SELECT id FROM quarantine WHERE stage = 'dedup' AND dup_of IS DISTINCT FROM id) "
            "THEN 'duplicate' "
            "WHEN id IN (SELECT id FROM quarantine WHERE stage = 'source_filter') THEN 'source_filtered' "
            "ELSE 'not_selected' END"
        )
    finally:
        con.close()
    os.replace(tmp, path)
    wal = tmp.with_suffix(".tmp.wal")
    if wal.exists():
        wal.unlink()
    return path


@contextmanager
def derived_catalog(path: Path, source: Path | None) -> Iterator:
    """An output's catalog made from its input's: ``source`` (when it is a file) is copied to a temp file beside
    ``path``, the caller adds or changes tables on the yielded DuckDB connection, and the result replaces ``path``
    only when the block finishes (a failed run leaves no half-written catalog). Used by `vero data filter` and
    `vero data curate`."""
    import duckdb

    tmp = path.with_suffix(".tmp")
    for p in (tmp, tmp.with_suffix(".tmp.wal")):
        if p.exists():
            p.unlink()
    if source is not None and source.is_file():
        shutil.copyfile(source, tmp)
    con = duckdb.connect(str(tmp))
    try:
        yield con
    finally:
        con.close()
    os.replace(tmp, path)


def write_pass_at_k(path: Path, source: Path | None, difficulty: pl.DataFrame,
                    completions: pl.DataFrame | None = None) -> Path:
    """The catalog of a `vero data filter` output: the input's catalog (``source``, when it has one) plus table
    ``difficulty`` (one row per processed row: pass count, rates, ``drop_reason``, ``kept``), table
    ``completions`` when given, and ``samples.status = 'passk_dropped'`` for exported rows the filter dropped.

    Args:
        path: the catalog to write (replaced only when this call succeeds).
        source: the input build's ``catalog.duckdb``, or None.
        difficulty: per-row pass@k statistics, with boolean ``kept``.
        completions: every sample's text and scores (``--save-completions``).
    """
    with derived_catalog(path, source) as con:
        con.register("diff_in", difficulty)
        con.execute("CREATE OR REPLACE TABLE difficulty AS SELECT * FROM diff_in")
        if completions is not None:
            con.register("comps_in", completions)
            con.execute("CREATE OR REPLACE TABLE completions AS SELECT * FROM comps_in")
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        if "samples" in tables:
            con.execute("UPDATE samples SET status = 'passk_dropped' FROM difficulty "
                        "WHERE samples.id = difficulty.id AND NOT difficulty.kept")
    return path
