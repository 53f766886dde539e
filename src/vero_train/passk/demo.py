"""A small filter input made of generated rows (for demos, tests and the warm-up) and `vero bench filter`."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from vero_train.passk.config import PassAtKConfig
from vero_train.passk.run import filter_pass_at_k

DEMO_GENERATORS = ("relative_position", "shape_colour", "counting", "equation", "bar_chart", "text_reading")


def make_demo_input(out: str | Path, rows: int = 12, seed: int = 0, generators: tuple[str, ...] = DEMO_GENERATORS,
                    split: str = "train") -> Path:
    """A small input for the filter without a full build: ``OUT/data/<split>-NNNNN-of-MMMMM.parquet``, one shard
    per generator (rows spread evenly), in the canonical schema."""
    import tempfile

    from vero_data.api import generate_to_dir
    from vero_data.layout import shard_name

    out = Path(out)
    (out / "data").mkdir(parents=True, exist_ok=True)
    gens = generators[:max(1, min(len(generators), rows))]
    per = [rows // len(gens) + (1 if i < rows % len(gens) else 0) for i in range(len(gens))]
    for i, (g, n) in enumerate(zip(gens, per, strict=True)):
        with tempfile.TemporaryDirectory() as tmp:
            res = generate_to_dir(g, n, seed, Path(tmp) / g, split=split)
            shutil.move(res["path"], out / "data" / shard_name(split, i, len(gens)))
    return out


def bench(rows: int = 24, k: int = 8, max_tokens: int = 64, batch_size: int = 8, model: str = "tiny",
          backend: str = "transformers", seed: int = 0) -> dict[str, Any]:
    """Time the filter end to end on generated rows (fresh cache): rows/s, tokens/s, share outside generation."""
    import tempfile

    from vero_train.models.tiny import resolve_model

    path = resolve_model(model)
    with tempfile.TemporaryDirectory() as tmp:
        data = make_demo_input(Path(tmp) / "in", rows=rows, seed=seed)
        res = filter_pass_at_k(PassAtKConfig(data=str(data), out=Path(tmp) / "out", model=path, k=k,
                                             backend=backend, max_tokens=max_tokens, batch_size=batch_size,
                                             keep_all=True, seed=seed, progress=False))
    busy = res.wall_seconds - res.load_seconds
    return {
        "model": model, "backend": backend, "rows": res.rows_in, "k": k, "max_tokens": max_tokens,
        "batch_size": batch_size, "wall_s": round(res.wall_seconds, 2), "model_load_s": round(res.load_seconds, 2),
        "generation_s": round(res.gen_seconds, 2), "rows_per_s": round(res.rows_per_s, 3),
        "tokens_per_s": round(res.tokens_per_s, 1), "tokens": res.tokens,
        "share_outside_generation": round(res.share_outside_generation, 4),
        "outside_generation_s": round(busy - res.gen_seconds, 2),
        "pass_histogram": res.histogram,
    }
