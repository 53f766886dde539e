"""Hub rows keep their images' encoded bytes: ``datasets`` decoding is turned off before a source is read.

With decoding on, ``datasets`` hands the adapter a PIL image whose source bytes are gone, and storing it meant
re-encoding it (a hub JPEG at PIL's default quality: 16.6 KB → 7.7 KB, pixels off by up to 30). With decoding
off, an ``Image`` value is ``{"bytes", "path"}`` and normalisation keeps the bytes
(:func:`vero_data.images.encode_for_row`). An image the dataset stores only as a file of its hub repo
(``hf://datasets/…``, or a member of an archive in it, ``zip://…::hf://…``) is read here, as ``datasets`` would
have read it, up to a size cap; any other path is left to the row-path rules (:mod:`vero_data.image_paths`).
"""

from __future__ import annotations

from typing import Any

from vero_data.image_paths import DEFAULT_MAX_IMAGE_BYTES


def image_columns(features: Any) -> list[str]:
    """Top-level columns holding an ``Image`` or a list of them (``Sequence(Image())`` / ``List(Image())``)."""
    from datasets import Image

    out = []
    for name, f in (features or {}).items():
        inner = getattr(f, "feature", None)
        if isinstance(f, Image) or isinstance(inner, Image):
            out.append(name)
    return out


def keep_encoded_images(ds: Any) -> tuple[Any, list[str]]:
    """``ds`` with image decoding off, and its image columns (empty when its features are unknown)."""
    cols = image_columns(getattr(ds, "features", None))
    if hasattr(ds, "decode"):  # IterableDataset (streaming)
        return ds.decode(False), cols
    from datasets import Image, List

    for c in cols:
        ds = ds.cast_column(c, Image(decode=False) if isinstance(ds.features[c], Image) else List(Image(decode=False)))
    return ds, cols


def _is_hub_url(path: str) -> bool:
    # `datasets` resolves a hub repo's files to hf:// URLs, archive members to zip://member::hf://archive
    return path.startswith("hf://") or "::hf://" in path


def _fetch(value: Any, max_bytes: int) -> Any:
    if not (isinstance(value, dict) and value.get("bytes") is None and isinstance(value.get("path"), str)
            and _is_hub_url(value["path"])):
        return value
    from datasets import DownloadConfig
    from datasets.utils.file_utils import xopen

    try:
        with xopen(value["path"], "rb", download_config=DownloadConfig()) as f:
            data = f.read(max_bytes + 1)
    except Exception:  # left as a path: the row is quarantined as missing_image naming it
        return value
    return value if len(data) > max_bytes else {"bytes": data, "path": value["path"]}


def fetch_hub_files(row: dict[str, Any], cols: list[str], max_bytes: int = DEFAULT_MAX_IMAGE_BYTES) -> dict[str, Any]:
    """``row`` with the image values of ``cols`` that name a hub file (no bytes) read into bytes."""
    for c in cols:
        v = row.get(c)
        if isinstance(v, list):
            row[c] = [_fetch(x, max_bytes) for x in v]
        elif v is not None:
            row[c] = _fetch(v, max_bytes)
    return row
