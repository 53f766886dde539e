"""What the CLI and the build report show about the registered generators: a table, an HTML gallery of examples and
a rows-per-second benchmark."""

from __future__ import annotations

import base64
import html
import io
import time
from typing import Any

from PIL import Image

from vero_data.images import decode_rgb
from vero_data.schema import answer_to_string, format_choices
from vero_data.sources.base import GENERATORS, generate
from vero_data.sources.generators.common import LEVELS


def _jsonable(v: Any) -> Any:
    if isinstance(v, tuple):
        return list(v)
    if isinstance(v, dict):
        return {k: _jsonable(x) for k, x in v.items()}
    return v


def generator_table() -> list[dict[str, Any]]:
    """One dict per registered generator: name, category, reward_types, description, defaults and difficulty knobs."""
    out = []
    for name, info in GENERATORS.items():
        levels = info.levels
        out.append({
            "name": name,
            "category": info.category,
            "reward_types": list(info.reward_types),
            "description": info.description,
            "defaults": _jsonable(dict(info.defaults)),
            "difficulty": ["mixed", *LEVELS] if levels else [],
            "knobs": sorted({k for lv in levels.values() for k in lv}),
            "levels": _jsonable(levels),
        })
    return out


def _data_url(image: Any, max_side: int = 480) -> str:
    if isinstance(image, str) and image.startswith("data:"):
        return image
    img = decode_rgb(image)  # as the model sees it: EXIF orientation, 16-bit grey scaled, transparency on white
    if img is image:  # an RGB PIL image comes back as it is: do not shrink the caller's copy
        img = img.copy()
    if max(img.size) > max_side:
        img.thumbnail((max_side, max_side), Image.Resampling.BILINEAR)
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


_CSS = """body{font-family:system-ui,sans-serif;margin:24px;background:#fafafa;color:#222}
h2{margin-top:32px;border-bottom:1px solid #ddd}.meta{color:#666;font-size:13px}
.row{display:flex;flex-wrap:wrap;gap:16px}.card{background:#fff;border:1px solid #ddd;border-radius:6px;
padding:10px;width:500px}.card img{max-width:480px;display:block;margin-bottom:8px}
pre{white-space:pre-wrap;font-size:12px;background:#f4f4f4;padding:6px;margin:4px 0}"""


def render_gallery(examples: dict[str, list[dict[str, Any]]], title: str = "Generated task gallery") -> str:
    """A self-contained HTML page showing a few examples per generator.

    Args:
        examples: generator name → examples, each with ``images`` (or ``image``: PIL, bytes, ``{"bytes"}`` or a
            data URL), ``question``, ``answer``, ``reward_type`` and optionally ``choices``/``difficulty``/``category``.
        title: page heading.
    """
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
             f"<style>{_CSS}</style></head><body><h1>{html.escape(title)}</h1>"]
    for name, rows in examples.items():
        cat = next((r.get("category") for r in rows if r.get("category")), "")
        parts.append(f"<h2>{html.escape(name)} <span class='meta'>{html.escape(cat)}</span></h2><div class='row'>")
        for r in rows:
            imgs = r.get("images") or ([r["image"]] if r.get("image") is not None else [])
            pics = "".join(f"<img src='{_data_url(i)}' alt='{html.escape(name)}'>" for i in imgs)
            q = r.get("question", "")
            if r.get("choices"):
                q += "\n" + format_choices(list(r["choices"]))
            ans = r.get("answer")
            ans = ans if isinstance(ans, str) else answer_to_string(ans)
            meta = " · ".join(str(x) for x in (r.get("reward_type"), r.get("difficulty")) if x)
            parts.append(f"<div class='card'>{pics}<div class='meta'>{html.escape(meta)}</div>"
                         f"<pre>{html.escape(q)}</pre><b>Answer</b><pre>{html.escape(ans)}</pre></div>")
        parts.append("</div>")
    parts.append("</body></html>")
    return "".join(parts)


def gallery_examples(per_generator: int = 3, seed: int = 0, names: list[str] | None = None
                     ) -> dict[str, list[dict[str, Any]]]:
    """Examples for `render_gallery` straight from the generators (one per difficulty where possible)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for name in names or GENERATORS.names():
        info = GENERATORS.get(name)
        rows = []
        for j in range(per_generator):
            level = LEVELS[j % len(LEVELS)] if info.levels else "mixed"
            _, s = next(generate(name, j + 1, seed=seed, params={"difficulty": level}, start=j))
            rows.append({"images": s.images, "question": s.question, "answer": s.answer, "choices": s.choices,
                         "reward_type": s.reward_type, "difficulty": s.extra_info.get("difficulty"),
                         "category": info.category})
        out[name] = rows
    return out


def bench_generators(n: int = 200, names: list[str] | None = None, encode: bool = True) -> dict[str, float]:
    """Rows per second per generator in this process (one core), PNG encoding included as the build does.

    Args:
        n: rows per generator (``difficulty: mixed``).
        names: generators to time (default: all).
        encode: also encode every image to PNG.
    """
    out = {}
    for name in names or GENERATORS.names():
        t0 = time.perf_counter()
        for _, s in generate(name, n, seed=0):
            if encode:
                for im in s.images:
                    im.save(io.BytesIO(), format="PNG")
        out[name] = round(n / (time.perf_counter() - t0), 1)
    return out
