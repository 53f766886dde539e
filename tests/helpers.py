"""Helpers shared by tests (import as `from tests.helpers import …`)."""

from __future__ import annotations

import io

import numpy as np


def png_bytes(img) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def chart_image(values: list[int], size=(320, 240), seed: int = 0):
    """A small bar chart with texture: distinct values give distinct pHashes, re-encodes stay close."""
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(seed)
    base = (rng.random((size[1] // 8, size[0] // 8, 3)) * 60 + 180).astype(np.uint8)
    img = Image.fromarray(base).resize(size, Image.Resampling.BILINEAR)
    d = ImageDraw.Draw(img)
    w = size[0] // (len(values) + 1)
    for i, v in enumerate(values):
        x = (i + 0.5) * w
        d.rectangle([x, size[1] - 10 - v, x + w * 0.7, size[1] - 10], fill=(40 + 50 * i % 200, 90, 160))
    return img


def send_chat_reply(handler, text: str) -> None:
    """Answer an OpenAI-style chat-completions request with one choice (the test judge servers' reply)."""
    import json

    data = json.dumps({"choices": [{"message": {"content": text}}]}).encode()
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)
