"""Vero shards → a TRL GRPO dataset, and the category-balanced rollout sampler.

Rows come from ``vero data build`` / ``vero data filter`` (schema in ``vero_data.schema``). TRL's VLM format
(pitfalls.md §1, TRL ``examples/scripts/grpo_vlm.py``) is a conversational ``prompt`` whose user turn holds one
``{"type": "image"}`` block per image, plus an ``images`` column of PIL images; TRL fills the blocks in order.
Every other column (``answer``, ``reward_type``, ``extra_info``, ``category`` …) reaches the reward functions as a
keyword list.
"""

from __future__ import annotations

import glob
import json
import logging
import math
import random
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from torch.utils.data import Sampler

from vero_data.errors import VeroError
from vero_data.hub import require_hub
from vero_data.rewards import image_size_reward_types, reward_types
from vero_data.schema import ABILITY_TO_CATEGORY, CATEGORIES, IMAGE_PLACEHOLDER, loads_extra

log = logging.getLogger(__name__)

# Columns the reward functions and logs need; `prompt` and `images` are TRL's.
KEEP_COLUMNS = ("id", "data_source", "category", "prompt", "images", "answer", "reward_type", "extra_info")


class TrainDataError(VeroError):
    """The training data cannot be used as given (the message names the row id and its source)."""


# ------------------------------------------------------------------------------------------------ loading
def shard_files(data: str | Path) -> list[str]:
    """Local parquet shards for ``data`` (a build dir, its ``data/`` dir, a file or a glob); [] if it is none."""
    p = Path(data)
    if p.is_dir():
        from vero_data.layout import find_input_parquet

        return [str(f) for f in find_input_parquet(p)]
    if p.is_file():
        return [str(p)]
    return sorted(glob.glob(str(data)))


def load_shards(data: str | Path, split: str | None = "train", max_rows: int | None = None):
    """The rows of a Vero dataset as a ``datasets.Dataset`` with images decoded to PIL.

    Args:
        data: a local build directory / parquet file / glob, or an HF dataset id.
        split: keep rows whose ``split`` column equals this (None = all rows).
        max_rows: keep the first N rows.
    """
    import datasets

    files = shard_files(data)
    if files:
        ds = datasets.load_dataset("parquet", data_files=files, split="train")
    elif Path(data).exists():
        raise TrainDataError(f"{data}: no parquet shards found (expected {data}/data/*.parquet)")
    else:
        require_hub(str(data), f"dataset {data!r} (no such local path, so a hub id)")
        try:
            ds = datasets.load_dataset(str(data), split="train")
        except Exception as e:  # offline, missing, private…
            raise TrainDataError(f"cannot load dataset {data!r}: {e}") from e
    if split and "split" in ds.column_names:
        splits = set(ds.unique("split"))
        if split in splits:
            if splits != {split}:
                ds = ds.filter(lambda s: s == split, input_columns=["split"])
        else:
            raise TrainDataError(f"{data}: no rows with split={split!r} (found {sorted(splits)})")
    if max_rows is not None and len(ds) > max_rows:
        ds = ds.select(range(max_rows))
    missing = [c for c in ("prompt", "images", "answer", "reward_type") if c not in ds.column_names]
    if missing:
        raise TrainDataError(f"{data}: not a Vero dataset, missing column(s) {missing}")
    return ds


# ------------------------------------------------------------------------------------------------ validation
def validate_rows(ds, source: str = "") -> list[dict]:
    """Check the rows before training, naming the row and its source.

    A known ``reward_type`` (else the accuracy reward would silently be 0) and a known category (the sampler
    balances over them) are required of every row: a wrong one means the data and the run do not fit, so training
    stops. A row without an image (TRL cannot mix image-less rows, trl#4113) or with a different number of
    ``<image>`` placeholders than images is one bad row: it is returned as a quarantine record
    (``missing_image`` / ``image_count_mismatch``), never the end of the run.
    """
    bad: list[dict] = []
    known = set(reward_types())  # Vero's 13 plus any registered by plugins
    cols = ["reward_type", "prompt", "images"] + [c for c in ("id", "data_source", "category") if c in ds.column_names]
    view = ds.select_columns(cols).cast_column("images", _undecoded_images())
    where = f" in {source}" if source else ""
    for i, row in enumerate(view):
        rid = row.get("id") or f"#{i}"
        src = row.get("data_source") or "?"
        rt = row["reward_type"]
        if rt not in known:
            from vero_data.registry import suggest

            raise TrainDataError(f"row {rid} (source {src}){where}: unknown reward_type {rt!r}. "
                                 f"{suggest(str(rt), known)}")
        cat = row.get("category")
        if cat is not None and ABILITY_TO_CATEGORY.get(cat, cat) not in CATEGORIES:
            raise TrainDataError(f"row {rid} (source {src}){where}: unknown category {cat!r}; "
                                 f"known: {', '.join(CATEGORIES)}")
        n_img = len(row["images"] or [])
        n_ph = sum(str(m.get("content") or "").count(IMAGE_PLACEHOLDER) for m in row["prompt"] or [])
        if n_img == 0:
            bad.append({"id": str(rid), "data_source": row.get("data_source"), "reason": "missing_image",
                        "detail": "no image (TRL cannot mix image-less rows into a VLM batch, trl#4113)", "_i": i})
        elif n_ph and n_ph != n_img:
            bad.append({"id": str(rid), "data_source": row.get("data_source"), "reason": "image_count_mismatch",
                        "detail": f"{n_ph} <image> placeholders for {n_img} images", "_i": i})
    return bad


def _undecoded_images():
    from datasets import Image, List

    return List(Image(decode=False))


def _image_problem(images: list[dict] | None) -> str | None:
    """Why a row's images cannot be decoded (None if they all can): PIL would raise mid-training otherwise. The
    checks are ``decode_rgb``'s (pixel cap, decoder, EXIF/bit depth/transparency conversion), on a reduced decode."""
    import io

    from PIL import Image

    from vero_data.errors import RowError
    from vero_data.images import DEFAULT_MAX_PIXELS, to_rgb

    for i, im in enumerate(images or []):
        try:
            src = io.BytesIO(im["bytes"]) if im.get("bytes") else im.get("path")
            if not src:
                return f"image {i}: no bytes and no path"
            with Image.open(src) as pil:
                if pil.width * pil.height > DEFAULT_MAX_PIXELS:
                    return f"image {i}: {pil.width}x{pil.height} pixels, over the cap of {DEFAULT_MAX_PIXELS}"
                pil.draft("RGB", (64, 64))  # JPEG: decode at 1/8 scale, still reads every byte
                pil.load()
                to_rgb(pil)  # the conversion every decode applies must work too (EXIF metadata, exotic modes)
        except Image.UnidentifiedImageError:
            return f"image {i}: not an image format PIL can read ({len(im.get('bytes') or b'')} bytes)"
        except RowError as e:
            return f"image {i}: {e.reason}: {e.detail}"[:300]
        except Exception as e:  # noqa: BLE001 - any decoder failure is this row's problem, not the run's
            return f"image {i}: {type(e).__name__}: {' '.join(str(e).split())}"[:300]
    return None


def drop_bad_images(ds, num_proc: int | None = None):
    """Decode every image once and drop the rows where one fails. Returns ``(dataset, quarantine records)``, each
    record ``{id, data_source, reason: "bad_image", detail}``."""
    view = ds.select_columns(["images"]).cast_column("images", _undecoded_images())
    problems = view.map(lambda images: {"_bad": _image_problem(images)}, input_columns=["images"],
                        remove_columns=["images"], num_proc=num_proc, desc="image check")["_bad"]
    bad = [i for i, p in enumerate(problems) if p]
    if not bad:
        return ds, []
    ids = ds["id"] if "id" in ds.column_names else [f"#{i}" for i in range(len(ds))]
    sources = ds["data_source"] if "data_source" in ds.column_names else [None] * len(ds)
    records = [{"id": str(ids[i]), "data_source": sources[i], "reason": "bad_image", "detail": problems[i]}
               for i in bad]
    keep = sorted(set(range(len(ds))) - set(bad))
    return ds.select(keep), records


# ------------------------------------------------------------------------------------------------ conversion
def prompt_to_messages(prompt: list[dict[str, str]], n_images: int, system_prompt: str | None = None) -> list[dict]:
    """Vero's ``[{role, content}]`` with ``<image>`` placeholders → TRL/transformers content blocks.

    Each ``<image>`` becomes ``{"type": "image"}`` where it stands; a prompt without placeholders gets its images
    before the text of the first user turn (TRL's own convention). Every content is a block list, so the column has
    one Arrow type.

    >>> prompt_to_messages([{"role": "user", "content": "<image>\\nHow many?"}], 1)
    [{'role': 'user', 'content': [{'type': 'image', 'text': None}, {'type': 'text', 'text': 'How many?'}]}]
    """
    out: list[dict] = []
    has_system = any(m.get("role") == "system" for m in prompt)
    if system_prompt and not has_system:
        out.append({"role": "system", "content": [{"type": "text", "text": system_prompt}]})
    placeholders = sum(str(m.get("content") or "").count(IMAGE_PLACEHOLDER) for m in prompt)
    pending = n_images if placeholders == 0 else 0
    for m in prompt:
        role, content = m.get("role", "user"), str(m.get("content") or "")
        blocks: list[dict] = []
        if role == "user" and pending:
            blocks += [{"type": "image", "text": None} for _ in range(pending)]
            pending = 0
        for j, piece in enumerate(content.split(IMAGE_PLACEHOLDER)):
            if j:
                blocks.append({"type": "image", "text": None})
                piece = piece.lstrip("\n")  # the newline after a placeholder is layout, not text
            if piece.strip():
                blocks.append({"type": "text", "text": piece})
        out.append({"role": role, "content": blocks})
    return out


def with_box_info(extra_info: Any, reward_type: str, image_sizes: list[list[int]] | None,
                  normalize_bbox_to_1000: bool | None) -> str:
    """``extra_info`` (JSON string) carrying what grounding/clicking rewards read: ``image_sizes`` and the
    coordinate convention ``normalize_bbox_to_1000``. Without a size those rewards are always 0."""
    info = loads_extra(extra_info)
    if reward_type in image_size_reward_types():
        if not info.get("image_sizes") and not info.get("image_size") and image_sizes:
            info["image_sizes"] = image_sizes
        if normalize_bbox_to_1000 is not None:
            info["normalize_bbox_to_1000"] = bool(normalize_bbox_to_1000)
        else:
            info.setdefault("normalize_bbox_to_1000", False)
    return json.dumps(info, ensure_ascii=False, sort_keys=True, default=str)


def as_model_image(image: dict, with_size: bool = True) -> tuple[dict, list[int] | None]:
    """One ``{"bytes", "path"}`` image as training stores it, and the size the model sees (when ``with_size``).

    The trainer's images are decoded by ``datasets.Image(mode="RGB")``: EXIF transpose (datasets#6739) then
    ``convert("RGB")``. That equals ``vero_data.images.decode_rgb`` for every image without transparency or more than
    8 bits per channel, which are kept as they are (size from the header and orientation tag). The others (16-bit
    or float grey, which ``convert`` clips to white; alpha or a tRNS colour, which it drops) are replaced by a
    lossless PNG of ``decode_rgb``'s pixels, so the model trains on what build, filter and eval see.
    """
    import io

    from PIL import Image

    from vero_data.images import decode_rgb, image_size, needs_conversion, to_bytes_and_path

    data, path = to_bytes_and_path({"bytes": image.get("bytes") or None, "path": image.get("path")})
    with Image.open(io.BytesIO(data)) as pil:
        convert = needs_conversion(pil)
    if not convert:
        return image, (list(image_size(data)) if with_size else None)
    rgb = decode_rgb(data, path=path)
    buf = io.BytesIO()
    rgb.save(buf, format="PNG")
    return {"bytes": buf.getvalue(), "path": image.get("path")}, [rgb.width, rgb.height]


def to_trl_dataset(ds, system_prompt: str | None = None, normalize_bbox_to_1000: bool | None = None,
                   num_proc: int | None = None, special_tokens: tuple[str, ...] = ()):
    """Vero rows → TRL rows: block-list ``prompt`` (with the system turn), ``images`` as RGB PIL images with
    ``decode_rgb``'s pixels (:func:`as_model_image`), a canonical ``category``, and ``extra_info`` completed for
    grounding/clicking (the shown image sizes, coordinate convention). ``special_tokens`` (the processor's) are
    escaped in the row text, as the filter and eval backends do, so ``<|im_start|>`` in a question stays text."""
    from datasets import Image, List

    from vero_train.models.prompts import escape_messages

    keep = [c for c in KEEP_COLUMNS if c in ds.column_names]
    ds = ds.select_columns(keep).cast_column("images", List(Image(decode=False)))
    sized = image_size_reward_types()

    def convert(prompt, images, reward_type, extra_info, category):
        boxes = reward_type in sized
        shown = [as_model_image(im, with_size=boxes) for im in images or []]
        sizes = [size for _, size in shown] if boxes else None
        return {
            "images": [im for im, _ in shown],
            "prompt": escape_messages(prompt_to_messages(prompt, len(images or []), system_prompt), special_tokens),
            "extra_info": with_box_info(extra_info, reward_type, sizes, normalize_bbox_to_1000),
            "category": ABILITY_TO_CATEGORY.get(category, category) if category else "unknown",
        }

    if "extra_info" not in ds.column_names:
        ds = ds.add_column("extra_info", ["{}"] * len(ds))
    if "category" not in ds.column_names:
        ds = ds.add_column("category", [None] * len(ds))
    ds = ds.map(convert, input_columns=["prompt", "images", "reward_type", "extra_info", "category"],
                num_proc=num_proc, desc="TRL prompts")
    return ds.cast_column("images", List(Image(mode="RGB")))


def filter_long_prompts(ds, processor, max_prompt_length: int | None, num_proc: int | None = None):
    """Drop rows whose prompt (chat template + image tokens) exceeds ``max_prompt_length`` tokens.

    Truncating a VLM prompt cuts image tokens ("Image features and image tokens do not match", trl#4220), so
    long rows are dropped, as Vero filters overlong prompts. Returns ``(dataset, dropped_ids)``.
    """
    if not max_prompt_length:
        return ds, []
    def n_tokens(prompt, images) -> int:
        msgs = _fill_images(_strip_none(prompt), images)
        enc = processor.apply_chat_template(msgs, tokenize=True, add_generation_prompt=True, return_dict=True)
        ids = enc["input_ids"]
        return len(ids[0]) if ids and isinstance(ids[0], list) else len(ids)

    lengths = ds.map(lambda p, im: {"_n": n_tokens(p, im)}, input_columns=["prompt", "images"],
                     remove_columns=ds.column_names, num_proc=num_proc, desc="prompt lengths")["_n"]
    keep = [i for i, n in enumerate(lengths) if n <= max_prompt_length]
    if len(keep) == len(ds):
        return ds, []
    ids = ds["id"] if "id" in ds.column_names else list(range(len(ds)))
    dropped = [ids[i] for i, n in enumerate(lengths) if n > max_prompt_length]
    log.warning("dropped %d/%d rows with prompts over %d tokens", len(dropped), len(ds), max_prompt_length)
    return ds.select(keep), dropped


def _strip_none(messages: list[dict]) -> list[dict]:
    """Arrow gives image blocks a ``text: None`` field; drop None fields so templates see clean blocks."""
    out = []
    for m in messages:
        content = m["content"]
        if isinstance(content, list):
            content = [{k: v for k, v in b.items() if v is not None} for b in content]
        out.append({**m, "content": content})
    return out


def _fill_images(messages: list[dict], images: list) -> list[dict]:
    it = iter(images or [])
    out = []
    for m in messages:
        content = m["content"]
        if isinstance(content, list):
            content = [{**b, "image": next(it)} if b.get("type") == "image" and "image" not in b else b
                       for b in content]
        out.append({**m, "content": content})
    return out


def prepare_train_dataset(data: str | Path, *, split: str | None = "train", max_rows: int | None = None,
                          system_prompt: str | None = None, normalize_bbox_to_1000: bool | None = None,
                          processor=None, max_prompt_length: int | None = None, num_proc: int | None = None):
    """Load, validate and convert a Vero dataset for ``GRPOTrainer``. Returns ``(dataset, info)``.

    Rows whose images do not decode and rows whose prompt is too long are dropped, not fatal: ``info["quarantine"]``
    lists them (``id``, ``data_source``, ``reason`` bad_image / prompt_too_long, ``detail``) for OUT/quarantine.parquet.
    """
    ds = load_shards(data, split=split, max_rows=max_rows)
    n_in = len(ds)
    ds, quarantine = drop_bad_images(ds, num_proc=num_proc)
    if quarantine:
        log.warning("dropped %d/%d rows whose images do not decode (reason bad_image), first: %s (%s)",
                    len(quarantine), n_in, quarantine[0]["id"], quarantine[0]["detail"])
    if len(ds):
        mismatched = validate_rows(ds, source=str(data))
        if mismatched:
            drop = {r.pop("_i") for r in mismatched}
            ds = ds.select([i for i in range(len(ds)) if i not in drop])
            quarantine += mismatched
            log.warning("left %d row(s) out whose images do not match their prompt, first: %s (%s)", len(mismatched),
                        mismatched[0]["id"], mismatched[0]["detail"])
    if len(ds):
        from vero_train.models.prompts import special_tokens

        specials = special_tokens(processor) if processor is not None else ()
        ds = to_trl_dataset(ds, system_prompt, normalize_bbox_to_1000, num_proc=num_proc, special_tokens=specials)
    dropped: list = []
    if len(ds) and processor is not None and max_prompt_length:
        sources = dict(zip(ds["id"], ds["data_source"], strict=True)) if {"id", "data_source"} <= set(
            ds.column_names) else {}
        ds, dropped = filter_long_prompts(ds, processor, max_prompt_length, num_proc=num_proc)
        quarantine += [{"id": str(i), "data_source": sources.get(i), "reason": "prompt_too_long",
                        "detail": f"over max_prompt_length={max_prompt_length}"} for i in dropped]
    n_bad = len(quarantine) - len(dropped)
    if len(ds) == 0:
        first = f"; first: row {quarantine[0]['id']}: {quarantine[0]['detail']}" if n_bad else ""
        raise TrainDataError(f"{data}: no rows left to train on ({n_in} read, {n_bad} with unusable images, "
                             f"{len(dropped)} over max_prompt_length={max_prompt_length}{first})")
    info = {"rows_in": n_in, "rows": len(ds), "dropped_prompt_too_long": dropped, "dropped_bad_image": n_bad,
            "quarantine": quarantine,
            "categories": dict(sorted(Counter(ds["category"]).items())),
            "reward_types": dict(sorted(Counter(ds["reward_type"]).items()))}
    return ds, info


# ------------------------------------------------------------------------------------------------ sampler
def category_quotas(batch_size: int, weights: dict[str, float], batch_index: int = 0) -> dict[str, int]:
    """Rows per category in one batch: largest remainder; ties rotate with ``batch_index`` so no category is
    favoured over many batches.

    >>> category_quotas(12, {"a": 1, "b": 1, "c": 1})
    {'a': 4, 'b': 4, 'c': 4}
    >>> sum(category_quotas(256, {c: 1.0 for c in "abcdef"}).values())
    256
    """
    names = sorted(weights)
    total = sum(weights[n] for n in names)
    exact = {n: batch_size * weights[n] / total for n in names}
    quota = {n: math.floor(exact[n]) for n in names}
    left = batch_size - sum(quota.values())
    k = len(names)
    order = sorted(range(k), key=lambda i: (-(exact[names[i]] - quota[names[i]]), (i - batch_index) % k))
    for i in order[:left]:
        quota[names[i]] += 1
    return quota


class CategoryBalancedSampler(Sampler[int]):
    """Rollout-batch indices with a fixed share of every category in each batch, as Vero's PerBatchDomainSampler
    (vero600k_format.md §6): per-category permutations from ``seed``, reshuffled and wrapped around when a category
    runs out, so small categories repeat while large ones are still being read.

    It yields TRL's ``RepeatSampler`` layout: for each batch of ``batch_size`` distinct prompts, the batch is
    emitted ``repeat_count`` times with each index repeated ``mini_repeat_count`` times (the rollouts of one prompt).
    Deterministic per epoch (``set_epoch``), so a resumed run sees the same batches.

    Args:
        categories: the category of every dataset row.
        batch_size: distinct prompts per rollout batch (all processes together).
        weights: category → share; None = uniform over the categories present.
        seed: sampler seed (Vero: 18).
        mini_repeat_count: repeats of each index in a row (TRL: ``num_generations``).
        repeat_count: repeats of each batch (TRL: ``num_iterations × steps_per_generation``).
        batches_per_epoch: batches per ``__iter__``; default ``ceil(len(categories) / batch_size)``.
    """

    def __init__(self, categories: Sequence[str], batch_size: int, weights: dict[str, float] | None = None,
                 seed: int = 18, mini_repeat_count: int = 1, repeat_count: int = 1,
                 batches_per_epoch: int | None = None):
        self.batch_size = batch_size
        self.seed = seed
        self.mini_repeat_count = mini_repeat_count
        self.repeat_count = repeat_count
        self.pools: dict[str, list[int]] = {}
        for i, c in enumerate(categories):
            self.pools.setdefault(c, []).append(i)
        present = set(self.pools)
        if weights:
            unknown = set(weights) - present
            if unknown:
                log.warning("category_weights for categories with no rows ignored: %s", sorted(unknown))
            w = {c: float(v) for c, v in weights.items() if c in present and v > 0}
            missing = present - set(weights)
            if missing:
                log.warning("categories without a weight are not sampled: %s", sorted(missing))
        else:
            w = {c: 1.0 for c in present}
        if not w:
            raise TrainDataError("category sampler: no category with rows and a positive weight")
        self.weights = w
        self.batches_per_epoch = batches_per_epoch or max(1, math.ceil(len(categories) / batch_size))
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def batches(self, start: int = 0, count: int | None = None) -> Iterator[list[int]]:
        """Distinct-prompt batches number ``start``, ``start+1``, …: replays the per-category streams from the
        beginning, so batch b is the same whatever came before in this process."""
        rngs = {c: random.Random(f"{self.seed}:{c}") for c in sorted(self.weights)}
        perms: dict[str, list[int]] = {c: [] for c in rngs}
        cursor = {c: 0 for c in rngs}
        batch_rng = random.Random(f"{self.seed}:order")

        def take(c: str, n: int) -> list[int]:
            out = []
            while len(out) < n:
                if cursor[c] >= len(perms[c]):
                    perms[c] = list(self.pools[c])
                    rngs[c].shuffle(perms[c])
                    cursor[c] = 0
                m = min(n - len(out), len(perms[c]) - cursor[c])
                out += perms[c][cursor[c]:cursor[c] + m]
                cursor[c] += m
            return out

        b = 0
        while count is None or b < start + count:
            quota = category_quotas(self.batch_size, self.weights, b)
            batch = [i for c in sorted(quota) for i in take(c, quota[c])]
            batch_rng.shuffle(batch)  # mix categories so each process gets a share of each
            if b >= start:
                yield batch
            b += 1

    def __iter__(self) -> Iterator[int]:
        start = self.epoch * self.batches_per_epoch
        self.epoch += 1  # without set_epoch, successive epochs continue the stream
        for batch in self.batches(start, self.batches_per_epoch):
            for _ in range(self.repeat_count):
                for index in batch:
                    for _ in range(self.mini_repeat_count):
                        yield index

    def __len__(self) -> int:
        return self.batches_per_epoch * self.batch_size * self.mini_repeat_count * self.repeat_count
