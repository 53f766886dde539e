"""Vero rows in TRL's vision layout: a conversational ``prompt`` with image parts where the images stand.

TRL's ``GRPOTrainer``/``SFTTrainer`` read a vision dataset as a conversational ``prompt`` plus an ``images`` list
and pass every other column to the reward functions. On our shards' string contents TRL's
``prepare_multimodal_messages`` puts all images before the first user text and leaves our literal ``<image>``
placeholders in it; with ``{"type": "image"}`` parts already in the content it fills those parts in order instead.
So the export splits each message's text around its ``<image>`` placeholders (trl 1.16, trl/data_utils.py).

Columns: ``id, data_source, category, prompt, images, answer, reward_type, extra_info, split``; ``answer``,
``reward_type`` and ``extra_info`` (a JSON string) are what ``vero_data.rewards.trl.vero_reward`` routes on.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from vero_data.errors import RowError, VeroError
from vero_data.rewards import image_size_reward_types
from vero_data.schema import IMAGE_PLACEHOLDER, dumps_extra, loads_extra

TRL_COLUMNS = ("id", "data_source", "category", "prompt", "images", "answer", "reward_type", "extra_info", "split")


def trl_features():
    """The export's ``datasets.Features``: content parts are ``{type, text}`` (text null on image parts), so every
    row has one Arrow type; ``images`` decode to PIL."""
    from datasets import Features, Image, List, Value

    part = {"type": Value("string"), "text": Value("string")}
    return Features({
        "id": Value("string"), "data_source": Value("string"), "category": Value("string"),
        "prompt": List({"role": Value("string"), "content": List(part)}),
        "images": List(Image()),
        "answer": Value("string"), "reward_type": Value("string"), "extra_info": Value("string"),
        "split": Value("string"),
    })


def prompt_with_image_parts(prompt: list[dict[str, Any]], n_images: int) -> list[dict[str, Any]]:
    """Messages with string content → content parts, ``{"type": "image"}`` where each ``<image>`` stands.

    Text is split around the placeholders, in order; the newline right after a placeholder is layout and dropped
    (as ``vero train`` does), whitespace-only pieces are dropped. A prompt without placeholders gets its images
    before the first user text (TRL's own convention).

    Raises:
        ValueError: the prompt has placeholders, but not one per image.

    >>> prompt_with_image_parts([{"role": "user", "content": "Compare <image> and <image>\\nWhich is larger?"}], 2)
    [{'role': 'user', 'content': [{'type': 'text', 'text': 'Compare '}, {'type': 'image', 'text': None}, \
{'type': 'text', 'text': ' and '}, {'type': 'image', 'text': None}, {'type': 'text', 'text': 'Which is larger?'}]}]
    """
    placeholders = sum(str(m.get("content") or "").count(IMAGE_PLACEHOLDER) for m in prompt)
    if placeholders and placeholders != n_images:
        raise ValueError(f"prompt has {placeholders} {IMAGE_PLACEHOLDER} placeholder(s) for {n_images} image(s)")
    pending = n_images if not placeholders else 0
    out = []
    for m in prompt:
        role, content = str(m.get("role") or "user"), str(m.get("content") or "")
        parts: list[dict[str, Any]] = []
        if role == "user" and pending:
            parts += [{"type": "image", "text": None} for _ in range(pending)]
            pending = 0
        for j, piece in enumerate(content.split(IMAGE_PLACEHOLDER)):
            if j:
                parts.append({"type": "image", "text": None})
                piece = piece.removeprefix("\n")
            if piece.strip():
                parts.append({"type": "text", "text": piece})
        out.append({"role": role, "content": parts})
    return out


def trl_row(row: dict[str, Any]) -> dict[str, Any]:
    """One canonical row → one TRL row (grounding/clicking rows get ``extra_info.image_sizes``)."""
    images = list(row.get("images") or [])
    extra = loads_extra(row.get("extra_info"))
    if row.get("reward_type") in image_size_reward_types() and not (extra.get("image_sizes") or extra.get("image_size")):
        from vero_data.images import image_size

        extra["image_sizes"] = [list(image_size(im)) for im in images]
    return {
        "id": row["id"], "data_source": row["data_source"], "category": row["category"],
        "prompt": prompt_with_image_parts(row.get("prompt") or [], len(images)),
        "images": [{"bytes": im.get("bytes"), "path": im.get("path")} for im in images],
        "answer": row["answer"], "reward_type": row["reward_type"], "extra_info": dumps_extra(extra),
        "split": row.get("split") or "train",
    }


def export_trl_dir(shards: list[Path], dest: Path) -> list[Path]:
    """Write exported shards as TRL rows under ``dest/data/`` (same shard names) with a dataset card.

    ``datasets.load_dataset(dest)`` then gives rows GRPOTrainer takes as they are. Every shard is checked first.

    Raises:
        VeroError: a shard is not a canonical vero shard, or one of its rows cannot be converted (shard and row named).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from vero_data.card import write_export_card
    from vero_data.stages.export import _canonical_rows, _first_line, check_shard

    for s in shards:
        check_shard(s)
    schema = trl_features().arrow_schema
    data = dest / "data"
    try:
        data.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise VeroError(f"cannot write the TRL export under {dest}: {_first_line(e)}") from None
    written: list[Path] = []
    pos: dict = {"shard": None, "row": 0}
    for s in shards:
        path, tmp = data / s.name, data / (s.name + ".tmp")
        try:
            with pq.ParquetWriter(tmp, schema, compression="zstd") as w:
                batch: list[dict[str, Any]] = []
                for row in _canonical_rows(s, pos):
                    batch.append(trl_row(row))
                    if len(batch) == 100:  # ~100-row row groups: images make rows large (datasets#5935)
                        w.write_table(pa.Table.from_pylist(batch, schema=schema))
                        batch = []
                if batch:
                    w.write_table(pa.Table.from_pylist(batch, schema=schema))
            os.replace(tmp, path)
        except (ValueError, TypeError, KeyError, RowError, pa.ArrowException) as e:
            raise VeroError(f"{pos['shard']}: row {pos['row']} cannot be exported for TRL: {_first_line(e)}") from None
        except OSError as e:
            raise VeroError(f"cannot write the TRL export under {dest}: {_first_line(e)}") from None
        finally:
            tmp.unlink(missing_ok=True)
        written.append(path)
    written.append(write_export_card(dest, written, "TRL", TRL_CARD_BODY))
    return written


TRL_CARD_BODY = """Vero rows in TRL's vision layout (`vero data export --format trl`): `prompt` is a list of messages whose
content parts carry `{"type": "image"}` where the images stand, `images` decode to PIL, and `answer`,
`reward_type`, `extra_info` route Vero's task rewards.

```python
from datasets import load_dataset
from trl import GRPOConfig, GRPOTrainer
from vero_data.rewards.trl import vero_reward

ds = load_dataset("<this directory>", split="train")
trainer = GRPOTrainer(model="Qwen/Qwen2.5-VL-3B-Instruct", reward_funcs=[vero_reward], train_dataset=ds,
                      args=GRPOConfig(output_dir="out"))
```
"""
