"""Build report: counts that reconcile per source (read = exported + dropped by reason + not selected), per
category quotas and shortfalls, dedup decisions with examples, image-size histogram, paper targets.
Written as ``report.json`` and a self-contained ``report.html`` (inline CSS bars and thumbnails, no scripts)."""

from __future__ import annotations

import base64
import html
import io
import json
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl
import pyarrow.parquet as pq

from vero_data.layout import BuildDir
from vero_data.manifest import Manifest

if TYPE_CHECKING:
    from vero_data.pipeline import BuildContext

PIXEL_BINS = [0, 50_000, 100_000, 200_000, 500_000, 1_000_000, 2_000_000, 4_000_000, 10**12]


def build_report(ctx: BuildContext) -> dict[str, Any]:
    """The report of a build whose stages have all run (``ctx.values``: parts, meta, quarantine, source_stats,
    removed, mixture, not_selected, quotas, shards)."""
    recipe, manifests, out, seed = ctx.recipe, ctx.manifests, ctx.dir.root, ctx.cfg.seed
    parts, unavailable, meta, quarantine = ctx["parts"], ctx["unavailable"], ctx["meta"], ctx["quarantine"]
    source_stats, removed, mixture = ctx["source_stats"], ctx["removed"], ctx["mixture"]
    not_selected, quotas, shards = ctx["not_selected"], ctx["quotas"], ctx["shards"]
    q_counts = quarantine.group_by("manifest", "reason").len().rows()
    dedup_q = quarantine.filter(pl.col("stage") == "dedup")
    dropped: dict[str, dict[str, int]] = defaultdict(dict)
    for m, reason, n in q_counts:
        dropped[m][reason] = n
    exported = dict(mixture.group_by("manifest").len().rows())
    unsel = dict(not_selected.group_by("manifest").len().rows())
    stats = {r["manifest"]: r for r in source_stats.to_dicts()}
    sources = []
    all_ok = True
    for m in manifests:
        read = sum(p.read for p in parts.get(m.name, []))
        d = dropped.get(m.name, {})
        ex, ns = exported.get(m.name, 0), unsel.get(m.name, 0)
        ok = read == ex + ns + sum(d.values())
        all_ok &= ok
        st = stats.get(m.name, {})
        sources.append({
            "manifest": m.name, "data_source": m.source_name, "category": m.category, "license": m.license,
            "upstream_rows": sum(p.upstream_rows for p in parts.get(m.name, [])), "read": read, "exported": ex,
            "not_selected": ns, "dropped": dict(sorted(d.items())), "reconciled": ok,
            "paper_target": m.target, "avg_pixels": st.get("avg_pixels"), "source_filter": st.get("reason"),
        })
    for name, msg in sorted(unavailable.items()):
        sources.append({"manifest": name, "unavailable": msg, "read": 0, "exported": 0, "reconciled": True})
    cat_rows = dict(mixture.filter(pl.col("split") == "train").group_by("category").len().rows())
    categories = []
    for c, quota in quotas.rows():
        got = cat_rows.get(c, 0)
        categories.append({"category": c, "exported": got, "quota": quota,
                           "shortfall": max(0, quota - got) if quota is not None else 0})
    px = meta.join(mixture.select("id"), on="id")["pixels"].to_list()
    hist = [sum(1 for v in px if lo <= v < hi) for lo, hi in zip(PIXEL_BINS[:-1], PIXEL_BINS[1:], strict=True)]
    reasons: dict[str, int] = defaultdict(int)
    for _, reason, n in q_counts:
        reasons[reason] += n
    splits = dict(mixture.group_by("split").len().rows())
    return {
        "recipe": recipe.name, "recipe_version": recipe.version, "seed": seed,
        "rows": mixture.height, "splits": splits,
        "shards": [str(s.relative_to(out)) for s in shards],
        "read": sum(s.get("read", 0) for s in sources),
        "dropped_by_reason": dict(sorted(reasons.items(), key=lambda kv: -kv[1])),
        "not_selected": not_selected.height,
        "reconciled": all_ok,
        "categories": categories,
        "sources": sources,
        "unavailable": unavailable,
        # counted from the quarantine, so copies with the same id (dropped before the hash/embedding rules) count too
        "dedup": {"removed": dedup_q.height, "by_rule": dict(sorted(dedup_q.group_by("reason").len().rows())),
                  # a few removed rows of every rule, each beside the row it duplicates, for the HTML report
                  "examples": (removed.with_columns(pl.int_range(pl.len()).over("rule").alias("_n"))
                               .filter(pl.col("_n") < 4).drop("_n").sort("rule", maintain_order=True).to_dicts()
                               if removed.height else [])},
        "image_pixels_histogram": {"bins": PIXEL_BINS, "counts": hist},
        "mixture": {"weights": recipe.mixture.category_weights(), "total": recipe.mixture.total},
    }


# ------------------------------------------------------------------------------------------------------- HTML
_CSS = """body{font:14px/1.4 system-ui,sans-serif;margin:2em;max-width:1200px;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left}
th{background:#f4f4f4}.bar{background:#4c78a8;height:12px;display:inline-block}.bad{color:#b00}
.card{display:inline-block;vertical-align:top;width:230px;margin:6px;border:1px solid #ddd;padding:6px;font-size:12px}
.card img{max-width:220px;max-height:160px}code{font-size:12px}
.card .q{max-height:8em;overflow:auto}.card pre.a{max-height:10em;overflow:auto;white-space:pre-wrap;
word-break:break-word;background:#f6f6f6;margin:2px 0;padding:3px;font-size:11px}.none{color:#777}"""


def _bars(rows: list[tuple[str, int]], empty: str = "none") -> str:
    if not rows:  # a heading over nothing reads as a broken page: say so
        return f"<p class='none'>{html.escape(empty)}</p>"
    mx = max([v for _, v in rows] or [1]) or 1
    body = "".join(
        f"<tr><td>{html.escape(str(k))}</td><td>{v:,}</td><td><span class='bar' style='width:{int(300 * v / mx)}px'>"
        f"</span></td></tr>" for k, v in rows
    )
    return f"<table>{body}</table>"


def _thumb(data: bytes, size: int = 220) -> str:
    from vero_data.images import decode_rgb

    try:
        im = decode_rgb(data)  # as the model sees it: EXIF orientation, 16-bit grey scaled, transparency on white
        im.thumbnail((size, size))
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=70)
        return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode()
    except Exception:
        return ""


def _card(row: dict, caption: str) -> str:
    img = row["images"][0]["bytes"] if row.get("images") else b""
    src = _thumb(img) if img else ""
    q = json.loads(row["extra_info"]).get("question", "") if row.get("extra_info") else ""
    return (f"<div class='card'>{f'<img src={src!r}>' if src else ''}<div><b>{html.escape(caption)}</b></div>"
            f"<div class='q'>{html.escape(str(q))}</div><div>answer ({html.escape(row['reward_type'])}):</div>"
            f"<pre class='a'>{html.escape(_pretty_answer(row['answer']))}</pre></div>")


def _pretty_answer(answer: str) -> str:
    """The whole answer (a card scrolls; an instruction-following answer is never cut mid-JSON), JSON indented."""
    text = answer.strip()
    if text[:1] in "[{" and len(text) < 100_000:
        try:
            return json.dumps(json.loads(text), indent=1, ensure_ascii=False)
        except ValueError:
            pass
    return answer


def write_report(folder: BuildDir, report: dict[str, Any], *, manifests: list[Manifest], store) -> Path:
    """``report.json``, ``report.html`` (with thumbnails of dedup pairs from ``store``) and ``gallery.html``."""
    folder.report_json.write_text(json.dumps(report, indent=2, sort_keys=True, default=str))
    parts = [f"<!doctype html><meta charset='utf-8'><title>Vero build report: {html.escape(report['recipe'])}</title>"
             f"<style>{_CSS}</style><h1>Build report: {html.escape(report['recipe'])}</h1>"]
    rec = "reconciled" if report["reconciled"] else "<span class='bad'>NOT reconciled</span>"
    parts.append(f"<p>{report['rows']:,} rows exported in {len(report['shards'])} shards (seed {report['seed']}); "
                 f"{report['read']:,} read; counts {rec}: read = exported + dropped by reason + not selected.</p>")
    parts.append("<h2>Rows per category</h2><table><tr><th>category</th><th>exported</th><th>quota</th>"
                 "<th>shortfall</th></tr>" + "".join(
                     f"<tr><td>{c['category']}</td><td>{c['exported']:,}</td><td>{c['quota'] or '-'}</td>"
                     f"<td>{c['shortfall'] or ''}</td></tr>" for c in report["categories"]) + "</table>")
    parts.append(_bars([(c["category"], c["exported"]) for c in report["categories"]]))
    parts.append("<h2>Sources</h2><table><tr><th>source</th><th>category</th><th>read</th><th>exported</th>"
                 "<th>paper target</th><th>not selected</th><th>dropped (reason: n)</th><th>filter</th></tr>")
    for s in report["sources"]:
        if "unavailable" in s:
            parts.append(f"<tr><td>{html.escape(s['manifest'])}</td><td colspan=7 class='bad'>unavailable: "
                         f"{html.escape(s['unavailable'])}</td></tr>")
            continue
        dr = ", ".join(f"{k}: {v}" for k, v in s["dropped"].items())
        parts.append(f"<tr><td>{html.escape(s['manifest'])}</td><td>{s['category']}</td><td>{s['read']:,}</td>"
                     f"<td>{s['exported']:,}</td><td>{s['paper_target'] or ''}</td><td>{s['not_selected']:,}</td>"
                     f"<td>{html.escape(dr)}</td><td>{html.escape(s['source_filter'] or '')}</td></tr>")
    parts.append("</table><h2>Rows per source</h2>")
    parts.append(_bars([(s["manifest"], s["exported"]) for s in report["sources"]]))
    parts.append("<h2>Dropped by reason</h2>" + _bars(list(report["dropped_by_reason"].items()),
                                                       "none: every row read was exported or not selected"))
    h = report["image_pixels_histogram"]
    labels = [f"{lo:,}–{hi:,}" if hi < 10**12 else f"≥ {lo:,}" for lo, hi in zip(h["bins"][:-1], h["bins"][1:],
                                                                                  strict=True)]
    parts.append("<h2>Image size (pixels per row, exported)</h2>" + _bars(list(zip(labels, h["counts"],
                                                                                    strict=True))))
    ex = report["dedup"]["examples"]
    n_dup = report["dedup"]["removed"]
    parts.append("<h2>Deduplication</h2><p>" + (f"{n_dup:,} rows removed as duplicates, by rule:" if n_dup else
                 "No duplicates found (exact copies, near-identical images, paraphrased questions).") + "</p>")
    if report["dedup"]["by_rule"]:
        parts.append(_bars(list(report["dedup"]["by_rule"].items())))
    rows = store.rows({e["id"] for e in ex} | {e["dup_of"] for e in ex})
    what = {"exact": "same pixels, question and answer", "phash": "image distance", "near_question":
            "question cosine"}
    for rule in dict.fromkeys(e["rule"] for e in ex):
        parts.append(f"<h3>{html.escape(rule)} ({html.escape(what.get(rule, rule))})</h3>")
        for e in (e for e in ex if e["rule"] == rule):
            if e["id"] in rows and e["dup_of"] in rows:
                score = "" if e.get("score") is None else f", {e['score']:.3f}"
                parts.append("<div>" + _card(rows[e["dup_of"]], "kept " + e["dup_of"][:10]) +
                             _card(rows[e["id"]], f"removed ({rule}{score})") + "</div>")
    parts.append("<h2>Examples per source</h2><p>See <a href='gallery.html'>gallery.html</a>; browse every row, "
                 "duplicate group and quarantined row with <code>vero data browse DIR</code>.</p>")
    page = folder.report_html
    page.write_text("\n".join(parts))
    write_gallery(folder, manifests)
    return page


def write_gallery(folder: BuildDir, manifests: list[Manifest], per_source: int = 3) -> Path:
    """A few exported examples per source (for generator sources: the generator gallery)."""
    parts = [f"<!doctype html><meta charset='utf-8'><title>Examples per source</title><style>{_CSS}</style>"
             "<h1>Examples per source</h1>"]
    for m in manifests:
        files = folder.part_files([m.name], "rows")
        if not files:
            continue
        t = pq.ParquetFile(files[0])
        rows = t.read_row_group(0).slice(0, per_source).to_pylist() if t.num_row_groups else []
        if not rows:
            continue
        gen = m.source.generator.name if m.source.generator else None
        parts.append(f"<h2>{html.escape(m.name)} <small>({m.category}{', generator ' + gen if gen else ''})"
                     "</small></h2>")
        parts.append("".join(_card(r, r["reward_type"]) for r in rows))
    page = folder.gallery
    page.write_text("\n".join(parts))
    return page


__all__ = ["build_report", "write_report", "write_gallery"]
