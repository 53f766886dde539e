"""Markdown and self-contained HTML reports of a VeroEval run (per benchmark, per category, overall, published)."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from vero_data.benchmarks.aggregate import AGGREGATION_RULE
from vero_data.benchmarks.registry import get_benchmark
from vero_data.benchmarks.spec import CATEGORY_TITLES
from vero_data.secrets import redact_url


def _f(x: float | None, signed: bool = False) -> str:
    if x is None:
        return "–"
    return f"{x:+.1f}" if signed else f"{x:.1f}"


def report_rows(res: dict[str, Any]) -> list[dict[str, Any]]:
    """Table rows: benchmark, category, ours, published, Δ, n, note."""
    v = res["veroeval"]
    pub = v.get("published") or {}
    pb = pub.get("benchmarks", {})
    official = set(pub.get("official", []))
    rows = []
    for name, score in v["benchmarks"].items():
        spec = get_benchmark(name)
        d = v["detail"][name]
        p = pb.get(name)
        note = "" if d["n_scored"] == d["n"] else f"{d['n'] - d['n_scored']} unscored (judge)"
        if name in official:
            note = (note + "; " if note else "") + "published figure from the official report"
        rows.append({"benchmark": spec.display_name, "task": name, "category": spec.category, "ours": score,
                     "published": p, "delta": None if p is None or score is None else score - p,
                     "n": d["n"], "metric": spec.metric, "note": note})
    return rows


def markdown_report(res: dict[str, Any]) -> str:
    v = res["veroeval"]
    cfg = res.get("config", {})
    pub = v.get("published") or {}
    pname = pub.get("model") or "published"
    lines = [f"# VeroEval report: {cfg.get('model', '?')} on {cfg.get('suite', '?')}", "",
             f"Backend `{cfg.get('backend')}`, limit {cfg.get('limit')}, judge `{cfg.get('judge_model')}` at "
             f"`{redact_url(cfg.get('judge_url'))}`, decoding {cfg.get('generation')}.", "",
             f"**Aggregation.** {AGGREGATION_RULE}", ""]
    if pub:
        lines += [f"Published column: **{pname}** (Vero paper / project page table). Cells marked as from the "
                  "official report were copied by the authors from the model's own report, not run through VeroEval.",
                  ""]
    lines += ["| benchmark | task | category | metric | n | ours | " + f"{pname} | Δ | note |",
              "|---|---|---|---|---:|---:|---:|---:|---|"]
    for r in report_rows(res):
        lines.append(f"| {r['benchmark']} | `{r['task']}` | {r['category']} | {r['metric']} | {r['n']} | "
                     f"{_f(r['ours'])} | {_f(r['published'])} | {_f(r['delta'], True)} | {r['note']} |")
    lines += ["", "| category | ours | " + f"{pname} | Δ |", "|---|---:|---:|---:|"]
    pc = pub.get("categories", {})
    for c, s in v["categories"].items():
        p = pc.get(c)
        lines.append(f"| {CATEGORY_TITLES.get(c, c)} | {_f(s)} | {_f(p)} | "
                     f"{_f(None if p is None or s is None else s - p, True)} |")
    po = pub.get("overall")
    o = v.get("overall")
    lines.append(f"| **Overall** ({v.get('n_benchmarks')} benchmarks) | **{_f(o)}** | {_f(po)} | "
                 f"{_f(None if po is None or o is None else o - po, True)} |")
    return "\n".join(lines) + "\n"


def _nice_max(v: float) -> float:
    """The axis end: the smallest of 10, 20, 25, 50, 75, 100 at or above ``v`` (scores are percentages)."""
    return next((m for m in (10, 20, 25, 50, 75, 100) if v <= m), 100)


def _bar_chart(cats: dict[str, float | None], pub: dict[str, float]) -> str:
    """Inline SVG: one row per category (its full name on the left), this run's bar over the published one, on a
    labelled score axis scaled to the largest value (a 3-point run stays readable), with tick lines."""
    items = list(cats.items())
    label_w, plot_w, row_h, bar_h, top = 230, 520, 44, 16, 10
    vals = [v for c, s in items for v in (s, pub.get(c)) if v is not None]
    mx = _nice_max(max(vals, default=0.0))
    h = top + row_h * len(items)
    x0 = label_w
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_w + plot_w + 60}" height="{h + 70}" role="img" '
           f'font-family="system-ui,sans-serif"><title>Score per category (0–{mx:g})</title>']
    for t in range(6):  # ticks and grid lines
        v = mx * t / 5
        x = x0 + plot_w * t / 5
        out.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{h}" stroke="#e3e3e3"/>'
                   f'<text x="{x:.1f}" y="{h + 16}" font-size="11" text-anchor="middle">{v:g}</text>')
    out.append(f'<line x1="{x0}" y1="{h}" x2="{x0 + plot_w}" y2="{h}" stroke="#444"/>'
               f'<text x="{x0 + plot_w / 2}" y="{h + 34}" font-size="12" text-anchor="middle">score (%)</text>')
    for i, (c, s) in enumerate(items):
        y = top + i * row_h + (row_h - 2 * bar_h - 2) / 2
        out.append(f'<text x="{label_w - 8}" y="{y + bar_h + 4:.1f}" font-size="12" text-anchor="end">'
                   f'{html.escape(CATEGORY_TITLES.get(c, c))}</text>')
        for j, (val, col, who) in enumerate(((s, "#3b6ea8", "this run"), (pub.get(c), "#c9a227", "published"))):
            yy = y + j * (bar_h + 2)
            if val is None:
                if j == 0:
                    out.append(f'<text x="{x0 + 4}" y="{yy + bar_h - 4:.1f}" font-size="11" fill="#888">'
                               'not scored</text>')
                continue
            bw = max(0.0, min(val, mx)) / mx * plot_w
            out.append(f'<rect x="{x0}" y="{yy:.1f}" width="{bw:.1f}" height="{bar_h}" fill="{col}">'
                       f'<title>{html.escape(CATEGORY_TITLES.get(c, c))}, {who}: {val:.1f}</title></rect>'
                       f'<text x="{x0 + bw + 4:.1f}" y="{yy + bar_h - 4:.1f}" font-size="11">{val:.1f}</text>')
    ly = h + 48
    out.append(f'<rect x="{x0}" y="{ly}" width="12" height="12" fill="#3b6ea8"/>'
               f'<text x="{x0 + 16}" y="{ly + 11}" font-size="12">this run</text>')
    if pub:
        out.append(f'<rect x="{x0 + 90}" y="{ly}" width="12" height="12" fill="#c9a227"/>'
                   f'<text x="{x0 + 106}" y="{ly + 11}" font-size="12">published</text>')
    out.append("</svg>")
    return "".join(out)


def html_report(res: dict[str, Any]) -> str:
    """One self-contained HTML page (inline CSS and SVG, no scripts or external assets)."""
    v = res["veroeval"]
    cfg = res.get("config", {})
    pub = v.get("published") or {}
    pname = html.escape(pub.get("model") or "published")
    e = html.escape
    rows = "".join(
        f"<tr><td>{e(r['benchmark'])}</td><td><code>{e(r['task'])}</code></td><td>{e(r['category'])}</td>"
        f"<td>{e(r['metric'])}</td><td class=n>{r['n']}</td><td class=n>{_f(r['ours'])}</td>"
        f"<td class=n>{_f(r['published'])}</td><td class=n>{_f(r['delta'], True)}</td><td>{e(r['note'])}</td></tr>"
        for r in report_rows(res))
    pc = pub.get("categories", {})
    cat_rows = "".join(
        f"<tr><td>{e(CATEGORY_TITLES.get(c, c))}</td><td class=n>{_f(s)}</td><td class=n>{_f(pc.get(c))}</td>"
        f"<td class=n>{_f(None if pc.get(c) is None or s is None else s - pc[c], True)}</td></tr>"
        for c, s in v["categories"].items())
    o, po = v.get("overall"), pub.get("overall")
    cat_rows += (f"<tr><th>Overall ({v.get('n_benchmarks')} benchmarks)</th><th class=n>{_f(o)}</th>"
                 f"<th class=n>{_f(po)}</th><th class=n>{_f(None if o is None or po is None else o - po, True)}"
                 "</th></tr>")
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>VeroEval: {e(str(cfg.get('model')))}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em;max-width:1100px}}table{{border-collapse:collapse;margin:1em 0}}
td,th{{border:1px solid #ccc;padding:3px 8px;font-size:13px}}.n{{text-align:right}}code{{font-size:12px}}</style>
</head><body><h1>VeroEval: {e(str(cfg.get('model')))} on {e(str(cfg.get('suite')))}</h1>
<p>Backend <code>{e(str(cfg.get('backend')))}</code>, limit {e(str(cfg.get('limit')))}, judge
<code>{e(str(cfg.get('judge_model')))}</code>. Decoding: <code>{e(str(cfg.get('generation')))}</code>.</p>
<p><b>Aggregation.</b> {e(AGGREGATION_RULE)}</p>
<h2>Categories</h2>{_bar_chart(v['categories'], pc)}
<table><tr><th>category</th><th>ours</th><th>{pname}</th><th>Δ</th></tr>{cat_rows}</table>
<h2>Benchmarks</h2><table><tr><th>benchmark</th><th>task</th><th>category</th><th>metric</th><th>n</th><th>ours</th>
<th>{pname}</th><th>Δ</th><th>note</th></tr>{rows}</table></body></html>
"""


def write_run_reports(out: Path, res: dict[str, Any], model: str) -> None:
    """Write a run's ``results.json``, ``report.md`` and ``report.html`` in ``out``, and lmms-eval's layout as well:
    ``out/<sanitised model name>/results.json`` with the HTML report beside it."""
    (out / "results.json").write_text(json.dumps(res, indent=1, ensure_ascii=False, default=str))
    (out / "report.md").write_text(markdown_report(res))
    (out / "report.html").write_text(html_report(res))
    tag = out / ("".join(c if c.isalnum() or c in "-_." else "__" for c in model.strip("/")) or "model")
    tag.mkdir(exist_ok=True)
    (tag / "results.json").write_text((out / "results.json").read_text())
    (tag / "report.html").write_text((out / "report.html").read_text())
