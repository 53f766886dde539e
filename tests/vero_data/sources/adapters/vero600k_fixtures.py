"""Tiny upstream-shaped fixtures for the adapter tests: images as each upstream stores them, contexts."""

from __future__ import annotations

import io

from PIL import Image

import vero_data.sources.adapters  # noqa: F401  (registers the adapters)
from vero_data.manifest import Manifest
from vero_data.sources.base import ADAPTERS, AdapterContext


def png(w: int = 32, h: int = 32, color=(200, 30, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (w, h), color).save(buf, format="PNG")
    return buf.getvalue()


def hf_image(w: int = 32, h: int = 32, path: str = "img.png") -> dict:
    """The HF ``Image`` feature with decoding off."""
    return {"bytes": png(w, h), "path": path}


def pil(w: int = 32, h: int = 32) -> Image.Image:
    """The HF ``Image`` feature decoded (what streaming load_dataset yields by default)."""
    return Image.open(io.BytesIO(png(w, h)))


def ctx(params: dict | None = None, reward_types: list[str] | None = None, index: int = 0, **manifest) -> AdapterContext:
    m = Manifest.model_validate({
        "name": "t", "category": manifest.pop("category", "stem"), "source": manifest.pop("source", {"hub": {"path": "x/y"}}),
        "adapter_params": params or {}, "reward_types": reward_types or [], **manifest,
    })
    return AdapterContext(m, index, dict(params or {}))


def run(name: str, row: dict, c: AdapterContext) -> list:
    out = ADAPTERS.get(name)(row, c)
    return [out] if not isinstance(out, (list, tuple)) and hasattr(out, "reward_type") else list(out)
