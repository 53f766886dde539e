"""What a build says about itself: the DuckDB catalog (every row's status and tags), the report (counts that
reconcile, plots, dedup examples) and the dataset card."""

from __future__ import annotations

import time
from typing import Any

from vero_data.pipeline import BuildContext, Stage


class CatalogStage(Stage):
    """``catalog.duckdb``: samples with tags and status, quarantine, dedup, sources and mixture tables."""

    name = "catalog"
    inputs = ("meta", "quarantine", "removed", "source_stats", "mixture")
    outputs = ("catalog",)

    def run(self, ctx: BuildContext) -> dict[str, Any]:
        from vero_data.catalog import write_catalog

        path = write_catalog(ctx.dir.catalog, meta=ctx["meta"], quarantine=ctx["quarantine"], dedup=ctx["removed"],
                             source_stats=ctx["source_stats"], mixture=ctx["mixture"], manifests=ctx.manifests)
        return {"catalog": path}


class ReportStage(Stage):
    """``report.json``/``report.html``/``gallery.html`` and the dataset card ``README.md``."""

    name = "report"
    inputs = ("parts", "unavailable", "meta", "quarantine", "source_stats", "removed", "mixture", "not_selected",
              "quotas", "shards", "catalog")
    outputs = ("report", "report_html", "card")

    def run(self, ctx: BuildContext) -> dict[str, Any]:
        from vero_data.card import write_card
        from vero_data.report import build_report, write_report

        t = time.perf_counter()
        report = build_report(ctx)
        card = write_card(ctx.dir.root, ctx.recipe, ctx.manifests, report, ctx["shards"])
        timings = {**ctx.timings, "report": time.perf_counter() - t}
        report["timings_s"] = {k: round(v, 3) for k, v in timings.items()}
        report["wall_s"] = round(time.perf_counter() - ctx.started, 3)
        report["catalog"] = ctx["catalog"].name  # relative, as the shards are: the folder may be moved
        html = write_report(ctx.dir, report, manifests=ctx.manifests, store=ctx.store)
        return {"report": report, "report_html": html, "card": card}

    def counts(self, out: dict[str, Any]) -> dict[str, Any]:
        return {"rows": out["report"]["rows"]}
