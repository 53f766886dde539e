"""``OUT/training.png``: the run's curves over optimizer steps, drawn from ``OUT/metrics.jsonl``.

Panels: total reward, accuracy per category, format rate, completion length and the two clip ratios (completions cut
off at ``max_completion_length``; updates whose GSPO importance ratio was clipped). Drawn with Pillow (a core
dependency) so no plotting library is needed; matplotlib is not installed with Vero. Only logged values are drawn:
steps without a rollout (the second update of a rollout batch) have no reward and are skipped, not interpolated.
"""

from __future__ import annotations

import json
from pathlib import Path

from vero_data.schema import CATEGORIES

PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]
# (title, [(label, metrics key)]); "{cat}" expands to every category present in the logs.
PANELS: list[tuple[str, list[tuple[str, str]]]] = [
    ("reward (weighted total)", [("reward", "reward")]),
    ("accuracy per category", [("{cat}", "rewards/{cat}/vero_accuracy")]),
    ("format rate", [("format", "rewards/vero_format/mean")]),
    ("completion length (tokens)", [("mean", "completions/mean_length"),
                                    ("mean of ended", "completions/mean_terminated_length")]),
    ("clip ratio", [("cut off at max length", "completions/clipped_ratio"),
                    ("GSPO ratio clipped", "clip_ratio/region_mean")]),
]


def read_metrics(path: str | Path) -> list[dict]:
    """The training logs (records with a ``loss``) of a ``metrics.jsonl``."""
    p = Path(path)
    if not p.is_file():
        return []
    recs = [json.loads(line) for line in p.read_text().splitlines() if line.strip()]
    return [r for r in recs if "loss" in r]


def series(records: list[dict]) -> list[tuple[str, list[tuple[str, list[tuple[float, float]]]]]]:
    """Each panel's title and its lines as (label, [(step, value)]); lines without a value are left out."""
    cats = [c for c in CATEGORIES if any(f"rewards/{c}/vero_accuracy" in r for r in records)]
    out = []
    for title, lines in PANELS:
        drawn = []
        for label, key in lines:
            for cat in (cats if "{cat}" in key else [None]):
                k, lab = (key.format(cat=cat), label.format(cat=cat)) if cat else (key, label)
                pts = [(float(r["step"]), float(r[k])) for r in records
                       if isinstance(r.get(k), int | float) and r[k] == r[k]]
                if pts:
                    drawn.append((lab, pts))
                if pts and key == "reward" and len(pts) >= 20:  # per-rollout rewards are noisy: add a running mean
                    w = max(2, len(pts) // 10)
                    drawn.append((f"mean of {w} rollouts", [(pts[i][0], sum(v for _, v in pts[i - w + 1:i + 1]) / w)
                                                             for i in range(w - 1, len(pts))]))
        out.append((title, drawn))
    return out


def plot_training(metrics_path: str | Path, out_path: str | Path, title: str = "") -> Path | None:
    """Draw the curves of ``metrics_path`` into ``out_path`` (PNG); None when nothing was logged yet."""
    from PIL import Image, ImageDraw, ImageFont

    records = read_metrics(metrics_path)
    if not records:
        return None
    panels = series(records)
    pw, ph, cols = 420, 260, 3
    rows = (len(panels) + cols - 1) // cols
    img = Image.new("RGB", (pw * cols, ph * rows + 30), "white")
    d = ImageDraw.Draw(img)
    font = ImageFont.load_default()
    d.text((10, 8), title or f"vero train: {Path(metrics_path).parent}", fill="black", font=font)
    steps = [float(r["step"]) for r in records]
    x0, x1 = min(steps), max(max(steps), min(steps) + 1)
    for n, (ptitle, lines) in enumerate(panels):
        ox, oy = (n % cols) * pw, 30 + (n // cols) * ph
        _panel(d, font, (ox, oy, pw, ph), ptitle, lines, (x0, x1))
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    img.save(tmp, format="PNG")
    tmp.replace(out)
    return out


def _panel(d, font, box, title, lines, xr) -> None:
    ox, oy, pw, ph = box
    left, top, right, bottom = ox + 56, oy + 22, ox + pw - 40, oy + ph - 52
    d.text((ox + 52, oy + 4), title, fill="black", font=font)
    d.rectangle((left, top, right, bottom), outline="#888888")
    vals = [v for _, pts in lines for _, v in pts]
    if not vals:
        d.text((left + 8, top + 8), "not logged", fill="#888888", font=font)
        return
    lo, hi = min(vals), max(vals)
    if hi - lo < 1e-9:
        lo, hi = lo - 0.5, hi + 0.5
    x0, x1 = xr

    def xy(s, v):
        return (left + (s - x0) / (x1 - x0) * (right - left), bottom - (v - lo) / (hi - lo) * (bottom - top))

    for v in (lo, hi):
        label = f"{v:.3g}"
        w = d.textlength(label, font=font)
        d.text((left - 4 - w, xy(x0, v)[1] - 6), label, fill="#444444", font=font)
    d.text((left, bottom + 3), f"{x0:g}", fill="#444444", font=font)
    d.text((right - 30, bottom + 3), f"step {x1:g}", fill="#444444", font=font)
    for i, (label, pts) in enumerate(lines):
        color = PALETTE[i % len(PALETTE)]
        xys = [xy(s, v) for s, v in pts]
        if len(xys) > 1:
            d.line(xys, fill=color, width=2)
        for x, y in xys if len(xys) <= 40 else []:
            d.ellipse((x - 2, y - 2, x + 2, y + 2), fill=color)
        ncol = 2 if max(len(lab) for lab, _ in lines) > 14 else 3
        lx, ly = left + (i % ncol) * ((right - left) // ncol), bottom + 16 + (i // ncol) * 12
        d.rectangle((lx, ly + 3, lx + 8, ly + 9), fill=color)
        d.text((lx + 11, ly), label[:26], fill="black", font=font)
