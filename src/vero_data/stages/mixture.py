"""Mixture (DuckDB, ``sql/mixture.sql``): per-source caps, then per-category quotas, ranked by sha256(seed:id); each
picked row gets its split, shard and position, which decide the exported shards."""

from __future__ import annotations

import hashlib
from typing import Any

import polars as pl

from vero_data.pipeline import BuildContext, Stage
from vero_data.schema import CATEGORIES
from vero_data.sql import load_sql


def mix_keys(ids: pl.Series, seed: int) -> pl.Series:
    """Unsigned 64-bit sort key sha256(seed:id): deterministic, stable across library versions."""
    return pl.Series(
        "mix_key",
        [int.from_bytes(hashlib.sha256(f"{seed}:{i}".encode()).digest()[:8], "big") for i in ids.to_list()],
        dtype=pl.UInt64,
    )


def category_quotas(total: int | None, weights: dict[str, float]) -> pl.DataFrame:
    """Rows per category for ``total`` (None: no quota)."""
    return pl.DataFrame(
        {"category": list(CATEGORIES),
         "quota": [None if total is None else int(round(total * weights[c])) for c in CATEGORIES]},
        schema={"category": pl.String, "quota": pl.Int64},
    )


class MixtureStage(Stage):
    """``kept`` → ``mixture`` (id, manifest, category, split, mix_key, part, position, shard, n_shards), the
    ``quotas`` it filled and the rows ``not_selected``."""

    name = "mix"
    inputs = ("meta", "kept")
    outputs = ("mixture", "quotas", "not_selected")

    def run(self, ctx: BuildContext) -> dict[str, Any]:
        import duckdb

        recipe, kept = ctx.recipe, ctx["kept"]
        quotas = category_quotas(recipe.mixture.total, recipe.mixture.category_weights())
        targets = {m.name: m.target for m in ctx.manifests}
        candidates = kept.select("id", "manifest", "category", "split").with_columns(
            pl.col("manifest").replace_strict(targets, return_dtype=pl.Int64, default=None).alias("target"),
            mix_keys(kept["id"], ctx.cfg.seed),
        )
        con = duckdb.connect()
        con.register("candidates", candidates)
        con.register("quotas", quotas)
        mixture = con.sql(load_sql("mixture")).pl().join(ctx["meta"].select("id", "part"), on="id", how="left")
        mixture = mixture.with_columns(pl.int_range(pl.len()).over("split").alias("position"))
        mixture = mixture.with_columns((pl.col("position") // recipe.rows_per_shard).cast(pl.Int64).alias("shard"))
        n_shards = mixture.group_by("split").agg((pl.col("shard").max() + 1).alias("n_shards"))
        mixture = mixture.join(n_shards, on="split")
        not_selected = kept.join(mixture.select("id"), on="id", how="anti").select("id", "manifest")
        return {"mixture": mixture, "quotas": quotas, "not_selected": not_selected}
