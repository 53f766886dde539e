"""Source filters (DuckDB, ``sql/source_filters.sql``): drop whole sources that are too small, too low-resolution
or only yes/no answers (Vero's source-level heuristics; per-manifest ``filters:`` override the recipe's)."""

from __future__ import annotations

from typing import Any

import polars as pl

from vero_data.pipeline import BuildContext, Stage, quarantine_from
from vero_data.sql import load_sql


def source_thresholds(ctx: BuildContext) -> pl.DataFrame:
    """One row per manifest: its thresholds, the manifest's own where it sets one, else the recipe's."""
    rf = ctx.recipe.filters

    def pick(own, default):
        return own if own is not None else default

    return pl.DataFrame(
        [{"manifest": m.name, "min_rows": pick(m.filters.min_rows, rf.min_rows),
          "min_avg_pixels": pick(m.filters.min_avg_pixels, rf.min_avg_pixels),
          "drop_binary_only": pick(m.filters.drop_binary_only, rf.drop_binary_only)} for m in ctx.manifests],
        schema={"manifest": pl.String, "min_rows": pl.Int64, "min_avg_pixels": pl.Int64, "drop_binary_only": pl.Boolean},
    )


class SourceFilterStage(Stage):
    """``kept`` minus the rows of sources a filter drops; ``source_stats`` (per source: rows, avg pixels, reason)."""

    name = "filter"
    inputs = ("meta", "kept")
    outputs = ("kept", "source_stats")

    def run(self, ctx: BuildContext) -> dict[str, Any]:
        import duckdb

        con = duckdb.connect()
        con.register("meta", ctx["meta"].select("manifest", "pixels", "answer"))
        con.register("thresholds", source_thresholds(ctx))
        source_stats = con.sql(load_sql("source_filters")).pl()
        dropped = source_stats.filter(pl.col("reason").is_not_null()).select("manifest", "reason")
        kept = ctx["kept"]
        ctx.drop(quarantine_from(kept.join(dropped, on="manifest"), "source_filter", "reason",
                                 "source-level heuristic filter (see report: sources)"))
        return {"kept": kept.join(dropped.select("manifest"), on="manifest", how="anti"), "source_stats": source_stats}
