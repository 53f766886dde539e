"""The released Vero-600K in veRL layout: read it from the hub, convert to/from canonical rows, export it.

The export reproduces what Vero's ``scripts/download_and_format_vero_600k.py`` writes (vero600k_format.md §3):
``vero_600k_<split>.verl.jsonl`` with one ``json.dumps(record, ensure_ascii=False)`` line per row, keys in the
order ``id, data_source, prompt, images, ability, reward_model{style, ground_truth}, extra_info{id, split, index,
question, answer, reward_type, tolerance}``, and the raw image bytes at
``images/<split>/<sanitized config>/<row:08d>_<sanitized id><ext>``.

Round trip: a released row → :func:`record_from_hf_row` → :func:`canonical_from_verl` (everything the re-export
needs sits in ``extra_info["verl"]``) → :func:`verl_from_canonical` gives back the identical record, and
:func:`export_verl` the identical bytes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from vero_data.errors import SourceUnavailableError
from vero_data.hub import require_hub
from vero_data.schema import (
    ABILITY_TO_CATEGORY,
    CATEGORY_TO_ABILITY,
    IMAGE_PLACEHOLDER,
    dumps_extra,
    loads_extra,
    sample_id,
)

if TYPE_CHECKING:
    from vero_data.manifest import Vero600kSource

log = logging.getLogger(__name__)

# Keys the reader adds to a released row so the adapter knows where it came from (config, split, row).
CONFIG_KEY = "__vero600k_config__"
SPLIT_KEY = "__vero600k_split__"
ROW_KEY = "__vero600k_row__"
VERL_META_KEY = "verl"  # extra_info["verl"]: what the byte-compatible re-export needs
EXTRA_INFO_KEYS = ("id", "split", "index", "question", "answer", "reward_type", "tolerance")


def jsonl_name(split: str) -> str:
    """``vero_600k_<split>.verl.jsonl``, the download script's file name."""
    return f"vero_600k_{split}.verl.jsonl"


def sanitize_component(value: str, fallback: str = "item") -> str:
    """A path component as the download script writes it: runs of other characters → ``_``, no leading/trailing ``._``."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", value.strip()).strip("._")
    return cleaned if cleaned else fallback


# ------------------------------------------------------------------------------------------ released row → record


def _flatten_content(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if not isinstance(part, dict):
                parts.append(str(part))
                continue
            kind = part.get("type")
            if kind == "text":
                parts.append(str(part.get("text", "")))
            elif kind in ("image", "video"):
                parts.append(IMAGE_PLACEHOLDER if kind == "image" else "<video>")
            else:
                parts.append(json.dumps(part, ensure_ascii=False))
        return "".join(parts)
    if isinstance(content, dict):
        return json.dumps(content, ensure_ascii=False)
    return "" if content is None else str(content)


def flatten_prompt(prompt: Any) -> list[dict[str, str]]:
    """Released ``prompt`` (list of messages or dict of parallel lists; string or typed-part content) → messages."""
    if isinstance(prompt, list):
        msgs = [
            {"role": str(m.get("role", "user")), "content": _flatten_content(m.get("content", ""))}
            for m in prompt
            if isinstance(m, dict)
        ]
        if msgs:
            return msgs
    if isinstance(prompt, dict):
        roles, contents = prompt.get("role"), prompt.get("content")
        if isinstance(roles, list) and isinstance(contents, list):
            msgs = [{"role": str(r), "content": _flatten_content(c)} for r, c in zip(roles, contents, strict=False)]
            if msgs:
                return msgs
        if "role" in prompt or "content" in prompt:
            return [{"role": str(prompt.get("role", "user")), "content": _flatten_content(prompt.get("content", ""))}]
    return [{"role": "user", "content": ""}]


def record_id(row: dict[str, Any], config: str, split: str, row_index: int) -> str:
    rid = row.get("id")
    extra = row.get("extra_info")
    if rid is None and isinstance(extra, dict):
        rid = extra.get("id")
    return str(rid) if rid is not None else f"{config}_{split}_{row_index}"


def image_suffix(image: dict[str, Any] | None) -> str:
    p = image.get("path") if isinstance(image, dict) else None
    suffix = Path(p).suffix.lower() if isinstance(p, str) else ""
    return suffix or ".png"


def image_relpath(config: str, split: str, row_index: int, rid: str, suffix: str, k: int = 0) -> str:
    """``images/<split>/<config>/<row:08d>_<id><ext>``; extra images of a multi-image row get ``_<k>`` (k ≥ 1)."""
    stem = f"{row_index:08d}_{sanitize_component(rid, fallback='sample')}" + (f"_{k}" if k else "")
    return f"images/{split}/{sanitize_component(config, fallback='config')}/{stem}{suffix}"


def _tolerance(v: Any) -> float | None:
    if v is None:
        return None
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def record_from_hf_row(row: dict[str, Any], config: str, split: str, row_index: int) -> dict[str, Any]:
    """The JSONL record the download script writes for one released HF row (image paths relative, not written)."""
    raw_extra = row.get("extra_info") if isinstance(row.get("extra_info"), dict) else {}
    prompt = flatten_prompt(row.get("prompt"))
    rid = record_id(row, config, split, row_index)
    question = raw_extra.get("question")
    if not (isinstance(question, str) and question):
        question = next((m["content"] for m in prompt if m.get("role") == "user" and m.get("content")), "")
    if question and prompt == [{"role": "user", "content": ""}]:
        prompt = [{"role": "user", "content": question}]
    image = row.get("image")
    if not isinstance(image, dict):
        raise TypeError(f"expected 'image' to be a {{bytes, path}} dict for {config}/{split} row {row_index}")
    try:
        index = int(raw_extra["index"]) if raw_extra.get("index") is not None else row_index
    except (TypeError, ValueError):
        index = row_index
    rm = row.get("reward_model") if isinstance(row.get("reward_model"), dict) else {}
    answer, rtype = raw_extra.get("answer"), raw_extra.get("reward_type")
    return {
        "id": rid,
        "data_source": "" if row.get("data_source") is None else str(row.get("data_source")),
        "prompt": prompt,
        "images": [image_relpath(config, split, row_index, rid, image_suffix(image))],
        "ability": "" if row.get("ability") is None else str(row.get("ability")),
        "reward_model": {
            "style": "" if rm.get("style") is None else str(rm.get("style")),
            "ground_truth": "" if rm.get("ground_truth") is None else str(rm.get("ground_truth")),
        },
        "extra_info": {
            "id": rid,
            "split": split,
            "index": index,
            "question": question,
            "answer": "" if answer is None else str(answer),
            "reward_type": "" if rtype is None else str(rtype),
            "tolerance": _tolerance(raw_extra.get("tolerance")),
        },
    }


# ------------------------------------------------------------------------------------------- record ↔ canonical


def verl_meta(record: dict[str, Any]) -> dict[str, Any]:
    """What ``extra_info["verl"]`` keeps of a record: every field not already a canonical column."""
    ei = record["extra_info"]
    gt = record["reward_model"]["ground_truth"]
    return {
        **({"ground_truth": gt} if gt != gt.strip() else {}),  # the build strips answers; keep the released bytes
        "id": record["id"],
        "ability": record["ability"],
        "style": record["reward_model"]["style"],
        "images": list(record["images"]),
        **{f"extra_{k}": ei.get(k) for k in EXTRA_INFO_KEYS if k != "id"},
    }


def canonical_from_verl(record: dict[str, Any], images: list[dict[str, Any]] | None = None,
                        image_root: str | os.PathLike | None = None, *, category: str | None = None,
                        license: str = "see upstream", manifest: str = "vero600k", manifest_version: str = "1",
                        ) -> dict[str, Any]:
    """A canonical row from one veRL JSONL record.

    Args:
        record: a line of ``vero_600k_<split>.verl.jsonl`` (or :func:`record_from_hf_row` output).
        images: the images as ``{"bytes", "path"}`` dicts; when None they are read from ``image_root``.
        image_root: the folder the record's relative image paths start from (the script's output dir).
        category: our category when the record's ``ability`` is not a known key.
        license: the row's licence string.
    """
    if images is None:
        if image_root is None:
            raise ValueError("give images or image_root")
        images = [{"bytes": (Path(image_root) / p).read_bytes(), "path": p} for p in record["images"]]
    ability = record.get("ability", "")
    cat = ABILITY_TO_CATEGORY.get(ability, category)
    if cat is None:
        raise ValueError(f"unknown ability {ability!r}; pass category=")
    ei = record["extra_info"]
    answer = record["reward_model"]["ground_truth"]
    extra: dict[str, Any] = {"question": ei.get("question", ""), VERL_META_KEY: verl_meta(record)}
    if ei.get("tolerance") is not None:
        extra["tolerance"] = ei["tolerance"]
    digests = [hashlib.sha256(im["bytes"]).hexdigest() for im in images if im.get("bytes") is not None]
    prompt = [{"role": m["role"], "content": m["content"]} for m in record["prompt"]]
    return {
        "id": sample_id(record["data_source"], prompt, digests, answer),
        "data_source": record["data_source"],
        "category": cat,
        "prompt": prompt,
        "images": [{"bytes": im.get("bytes"), "path": im.get("path")} for im in images],
        "answer": answer,
        "reward_type": ei.get("reward_type", ""),
        "extra_info": dumps_extra(extra),
        "split": ei.get("split") or "train",
        "license": license,
        "lineage": {"manifest": manifest, "manifest_version": manifest_version, "upstream_id": record["id"],
                    "upstream_index": int(ei.get("index", 0) or 0)},
        "pass_count": None,
        "k": None,
    }


def _ground_truth(answer: str, meta: dict[str, Any]) -> str:
    raw = meta.get("ground_truth")
    return raw if raw is not None and raw.strip() == answer else answer


def _question(row: dict[str, Any], extra: dict[str, Any]) -> str:
    q = extra.get("question")
    if isinstance(q, str) and q:
        return q
    return next((m["content"] for m in row.get("prompt") or [] if m.get("role") == "user" and m.get("content")), "")


def verl_from_canonical(row: dict[str, Any], split: str | None = None, row_index: int = 0,
                        config: str | None = None) -> dict[str, Any]:
    """The veRL JSONL record for a canonical row.

    Rows imported from the release (``extra_info["verl"]`` present, same split) come back exactly as released.
    Other rows get ``ability`` from their category, ``style: "rule"`` and image paths under
    ``images/<split>/<config or data_source>/``.

    Args:
        row: a canonical row (dict with the schema's columns).
        split: the split written into the record (default: the row's).
        row_index: position of the row within its config and split (image file names, default index).
        config: folder name for the images (default: the data_source).
    """
    extra = loads_extra(row.get("extra_info"))
    meta = extra.get(VERL_META_KEY)
    split = split or row.get("split") or "train"
    prompt = [{"role": str(m["role"]), "content": str(m["content"])} for m in row.get("prompt") or []]
    if meta and (meta.get("extra_split") == split):
        rid = meta["id"]
        tol = meta.get("extra_tolerance")
        return {
            "id": rid,
            "data_source": row["data_source"],
            "prompt": prompt,
            "images": list(meta["images"]),
            "ability": meta["ability"],
            "reward_model": {"style": meta["style"], "ground_truth": _ground_truth(row["answer"], meta)},
            "extra_info": {
                "id": rid,
                "split": split,
                "index": meta.get("extra_index", row_index),
                "question": meta.get("extra_question", ""),
                "answer": meta.get("extra_answer", ""),
                "reward_type": meta.get("extra_reward_type", ""),
                "tolerance": tol,
            },
        }
    rid = str((meta or {}).get("id") or row.get("id") or f"{config}_{split}_{row_index}")
    cfg = config or row.get("data_source") or "config"
    images = [
        image_relpath(cfg, split, row_index, rid, image_suffix(im if isinstance(im, dict) else None), k)
        for k, im in enumerate(row.get("images") or [])
    ]
    return {
        "id": rid,
        "data_source": row.get("data_source") or "",
        "prompt": prompt,
        "images": images,
        "ability": (meta or {}).get("ability") or CATEGORY_TO_ABILITY.get(row.get("category", ""), ""),
        "reward_model": {"style": (meta or {}).get("style") or "rule", "ground_truth": row.get("answer") or ""},
        "extra_info": {
            "id": rid,
            "split": split,
            "index": row_index,
            "question": _question(row, extra),
            "answer": str(extra.get("answer", row.get("answer") or "")),
            "reward_type": row.get("reward_type") or "",
            "tolerance": _tolerance(extra.get("tolerance")),
        },
    }


def _image_bytes(im: Any) -> bytes:
    if isinstance(im, dict):
        if im.get("bytes") is not None:
            return bytes(im["bytes"])
        if im.get("path") and os.path.exists(im["path"]):
            return Path(im["path"]).read_bytes()
    if isinstance(im, (bytes, bytearray)):
        return bytes(im)
    raise ValueError("image has neither bytes nor a readable path")


VERL_FORMATS = ("parquet", "jsonl")


def verl_file_name(split: str, file_format: str = "jsonl") -> str:
    """``vero_600k_<split>.verl.jsonl`` (the download script's name) or ``.verl.parquet``."""
    return jsonl_name(split) if file_format == "jsonl" else f"vero_600k_{split}.verl.parquet"


def verl_arrow_schema():
    """The Parquet schema of a veRL record: fixed, so every split and export has the same column types."""
    import pyarrow as pa

    s = pa.string()
    return pa.schema([
        ("id", s), ("data_source", s),
        ("prompt", pa.list_(pa.struct([("role", s), ("content", s)]))),
        ("images", pa.list_(s)),
        ("ability", s),
        ("reward_model", pa.struct([("style", s), ("ground_truth", s)])),
        ("extra_info", pa.struct([("id", s), ("split", s), ("index", pa.int64()), ("question", s), ("answer", s),
                                  ("reward_type", s), ("tolerance", pa.float64()),
                                  ("image_sizes", pa.list_(pa.list_(pa.int64())))])),
    ])


class _RecordWriter:
    """JSONL lines (``json.dumps(record, ensure_ascii=False)``, as the download script) or Parquet row groups."""

    def __init__(self, path: Path, file_format: str, batch_rows: int = 256):
        self.path, self.format, self.batch_rows = path, file_format, batch_rows
        self._buf: list[dict[str, Any]] = []
        self._fh = path.open("w", encoding="utf-8") if file_format == "jsonl" else None
        self._pq = None

    def write(self, rec: dict[str, Any]) -> None:
        if self._fh is not None:
            self._fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
            return
        self._buf.append(rec)
        if len(self._buf) >= self.batch_rows:
            self._flush()

    def _flush(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        schema = verl_arrow_schema()
        if self._pq is None:
            self._pq = pq.ParquetWriter(self.path, schema, compression="zstd")
        if self._buf:
            self._pq.write_table(pa.Table.from_pylist(self._buf, schema=schema))
            self._buf = []

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            return
        self._flush()
        self._pq.close()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *_) -> None:
        if exc_type is None:
            self.close()
        elif self._fh is not None:
            self._fh.close()
        elif self._pq is not None:  # a failed export: close the file, write no more rows
            self._pq.close()


def _inside(rel: str) -> str:
    """``rel`` when it is a relative path that stays inside the export folder (a row's stored ``images`` can say
    anything: ``../../x`` must not write outside OUT)."""
    p = PurePosixPath(rel)
    if not rel or p.is_absolute() or "\\" in rel or any(part in ("..", "") for part in rel.split("/")):
        raise ValueError(f"image path {rel!r} is not a relative path inside the export folder")
    return rel


def _with_reward_inputs(rec: dict[str, Any], row: dict[str, Any]) -> None:
    """Add what Vero's verifiers read beyond the download script's seven ``extra_info`` keys: ``image_sizes`` for the
    types that need them, grounding and clicking (without a size their reward is always 0 in veRL, which passes only
    ``extra_info``)."""
    from vero_data.rewards import image_size_reward_types

    if rec["extra_info"].get("reward_type") not in image_size_reward_types() or rec["extra_info"].get("image_sizes"):
        return
    sizes = loads_extra(row.get("extra_info")).get("image_sizes")
    if not (isinstance(sizes, list) and sizes):
        from vero_data.images import image_size

        sizes = [list(image_size(im)) for im in row.get("images") or []]
    rec["extra_info"]["image_sizes"] = [[int(v) for v in s] for s in sizes]


def export_verl(rows: Iterable[dict[str, Any]], out_dir: str | os.PathLike, split: str = "train",
                overwrite: bool = False, *, image_root: str | os.PathLike | None = None,
                file_format: str = "jsonl", reward_inputs: bool = False) -> list[Path]:
    """Write canonical rows in veRL's layout: one records file per split and the raw image files.

    With the defaults this is exactly what Vero's download script writes (JSONL, image paths relative to
    ``out_dir``). veRL opens relative paths from its working directory, so for training give ``image_root``:
    each path is then written as ``<image_root>/<relative path>``, made absolute at write time.

    Args:
        rows: canonical rows (images as ``{"bytes", "path"}``).
        out_dir: output folder; image files go under ``out_dir/images/``.
        split: the split name in the file name, image folders and ``extra_info.split``.
        overwrite: replace existing image files (the records file is always rewritten).
        image_root: the folder the image paths start from where veRL runs (``out_dir`` itself, or where it will be
            copied to); None keeps them relative, as the download script does.
        file_format: ``jsonl`` or ``parquet`` (verl <= 0.7 reads only ``.parquet``/``.json``).
        reward_inputs: add ``extra_info.image_sizes`` to grounding/clicking rows (see :func:`_with_reward_inputs`).

    Returns:
        The records file followed by every image path written.
    """
    if file_format not in VERL_FORMATS:
        raise ValueError(f"unknown veRL file format {file_format!r}; supported: {', '.join(VERL_FORMATS)}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    prefix = None if image_root is None else Path(os.path.abspath(os.path.expanduser(os.fspath(image_root))))
    records = out / verl_file_name(split, file_format)
    written: list[Path] = [records]
    counters: dict[str, int] = defaultdict(int)
    tmp = records.with_name(records.name + ".tmp")  # a failed export must not leave a valid-looking, truncated file
    try:
        with _RecordWriter(tmp, file_format) as w:
            for row in rows:
                cfg = row.get("data_source") or "config"
                rec = verl_from_canonical(row, split=split, row_index=counters[cfg], config=cfg)
                counters[cfg] += 1
                for rel, im in zip(rec["images"], row.get("images") or [], strict=False):
                    dest = out / _inside(rel)
                    if dest.exists() and not overwrite:
                        continue
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    dest.write_bytes(_image_bytes(im))
                    written.append(dest)
                if reward_inputs:
                    _with_reward_inputs(rec, row)
                if prefix is not None:
                    rec["images"] = [str(prefix / rel) for rel in rec["images"]]
                w.write(rec)
        os.replace(tmp, records)
    finally:
        tmp.unlink(missing_ok=True)
    return written


VERL_CONFIG_NAME = "verl_config.yaml"
# Vero trains with format_score 0.2 (vero600k_format.md §5, gspo_llmjudge_shared.yaml); veRL calls the reward without
# it, so compute_score_from_data_source's own default 0.5 would apply unless reward_kwargs sets it.
VERL_FORMAT_SCORE = 0.2


def verl_config(records: dict[str, str]) -> str:
    """The veRL settings for an export as YAML: data files, keys and Vero's reward with ``format_score`` 0.2.

    Keys checked against verl 0.9.1: ``data.train_files``/``val_files`` (``.parquet``, ``.json`` or ``.jsonl``),
    ``data.prompt_key``/``image_key`` (RLHFDataset), ``reward.custom_reward_function.path/name/reward_kwargs``
    (verl/trainer/ppo/reward.py ``get_custom_reward_fn``; ``pkg://`` loads an installed module).

    Args:
        records: split → absolute path of its records file.
    """
    import yaml

    val = records.get("val") or records.get("test")
    data: dict[str, Any] = {"train_files": [records["train"]] if "train" in records else sorted(records.values())}
    if val:
        data["val_files"] = [val]
    data.update({"prompt_key": "prompt", "image_key": "images", "reward_fn_key": "data_source"})
    doc = {"data": data, "reward": {"custom_reward_function": {
        "path": "pkg://vero_data.rewards", "name": "compute_score_from_data_source",
        "reward_kwargs": {"format_score": VERL_FORMAT_SCORE}}}}
    head = ["# veRL settings for this export (vero data export); merge into your veRL trainer config.",
            "# String image paths need verl >= 0.9; verl 0.7 reads custom_reward_function at the top level.",
            "# On the command line reward_kwargs is a new key: +reward.custom_reward_function.reward_kwargs.format_score=0.2",
            "# Vero's training passes format_score 0.2; without reward_kwargs the function's default 0.5 applies."]
    if not val:
        head.append("# This export has no val split: set data.val_files (veRL validates on it).")
    return "\n".join(head) + "\n" + yaml.safe_dump(doc, sort_keys=False)


def read_verl_jsonl(path: str | os.PathLike, image_root: str | os.PathLike | None = None,
                    **kwargs: Any) -> Iterator[dict[str, Any]]:
    """Canonical rows from a download-script JSONL (``image_root`` defaults to the JSONL's folder)."""
    root = Path(image_root) if image_root is not None else Path(path).parent
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield canonical_from_verl(json.loads(line), image_root=root, **kwargs)


# --------------------------------------------------------------------------------------------------- hub reader


def iter_vero600k(spec: Vero600kSource, limit: int | None = None) -> Iterator[tuple[int, str | None, dict[str, Any]]]:
    """Stream the released Vero-600K: ``(index, upstream id, row)`` for ``spec.config`` (or every config).

    Tries each of ``spec.repo_ids`` in turn (zlab-princeton/Vero-600k, then gsarch/Vero-600k; a local snapshot
    folder works too). Images stay encoded (``{"bytes", "path"}``) so a re-export is byte-identical. Each row
    carries its config, split and row position under ``CONFIG_KEY`` / ``SPLIT_KEY`` / ``ROW_KEY``.

    Raises:
        SourceUnavailableError: no repo id could be listed or loaded.
    """
    try:
        from datasets import Image, get_dataset_config_names, load_dataset
    except ImportError as e:  # pragma: no cover - datasets is a core dependency
        raise SourceUnavailableError(f"the datasets library is needed to read Vero-600K: {e}") from None
    tried: list[str] = []
    for repo in spec.repo_ids:
        try:
            require_hub(repo, f"the released Vero-600K from {repo}")
            configs = [spec.config] if spec.config else list(get_dataset_config_names(repo, revision=spec.revision))
            streams = []
            for cfg in configs:
                ds = load_dataset(repo, cfg, split=spec.split, streaming=True, revision=spec.revision)
                if ds.features is not None and "image" in ds.features:
                    ds = ds.cast_column("image", Image(decode=False))
                streams.append((cfg, ds))
        except Exception as e:  # noqa: BLE001 - hub/network errors come in many types; report them as one
            tried.append(f"{repo}: {type(e).__name__}: {str(e).splitlines()[0][:160] if str(e) else ''}")
            log.info("Vero-600K not readable from %s: %s", repo, tried[-1])
            continue
        n = 0
        for cfg, ds in streams:
            for row_index, row in enumerate(ds):
                if limit is not None and n >= limit:
                    return
                row = dict(row)
                row[CONFIG_KEY], row[SPLIT_KEY], row[ROW_KEY] = cfg, spec.split, row_index
                yield n, record_id(row, cfg, spec.split, row_index), row
                n += 1
        return
    raise SourceUnavailableError(
        f"cannot read the released Vero-600K (config {spec.config or 'all'}, split {spec.split}) from "
        f"{' or '.join(spec.repo_ids)}: " + "; ".join(tried)
        + ". Check network access to the Hugging Face Hub (HF_HUB_OFFLINE unset) or put a local snapshot path "
        "in source.vero600k.repo_ids."
    )
