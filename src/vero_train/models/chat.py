"""What every generation backend shares: sampling settings, a chat request with its decoded images, a completion,
and turning a canonical row into chat messages.

A leaf module (it imports no backend), so the backends, the tiny model's warm-up and the request server all import
it without importing each other.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from vero_data.errors import ConfigError, RowError
from vero_train.models.prompts import VERO_SYSTEM_PROMPT

IMAGE_PLACEHOLDER = "<image>"


@dataclass
class SamplingConfig:
    """Sampling parameters shared by every backend (paper rollouts: temperature 1.0, top_p 1.0, n = 8)."""

    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int | None = None
    max_tokens: int = 512
    seed: int = 0
    presence_penalty: float = 0.0

    def key(self) -> str:
        """A stable string for cache keys."""
        return json.dumps(asdict(self), sort_keys=True)


@dataclass
class ChatRequest:
    """One prompt: OpenAI-style ``messages`` (content = str or parts) and its images in placeholder order.

    Images may be given as anything :func:`decode_image` takes (eval passes a benchmark doc's bytes or PIL images);
    they are held decoded, so every backend sends the model the pixels build, filter and train see. An image that
    does not decode raises ``RowError`` here.
    """

    id: str
    messages: list[dict]
    images: list = field(default_factory=list)

    def __post_init__(self):
        self.images = [decode_image(x) for x in self.images]  # a decoded RGB image comes back as it is


@dataclass
class Completion:
    text: str
    n_tokens: int
    finish_reason: str  # "stop" | "length"


class GenerationBackend(Protocol):
    def generate(self, requests: list[ChatRequest], n: int, sampling: SamplingConfig) -> list[list[Completion]]:
        """``n`` completions per request, in request order."""
        ...


def check_model_path(model: str) -> None:
    """Fail in one line when ``model`` is a local path that holds no saved model (transformers would say only
    "Unrecognized processing class"); a missing path-like name is left to ``require_hub``, hub ids pass."""
    if os.path.isfile(model):
        raise ConfigError(f"model {model} is a file; expected a model directory (with config.json) or a hub id")
    if os.path.isdir(model) and not os.path.isfile(os.path.join(model, "config.json")):
        raise ConfigError(f"model directory {model} has no config.json: not a saved model "
                          "(save_pretrained output, `tiny` or a hub id expected)")


def fill_image_parts(req: ChatRequest, part_for) -> list[dict]:
    """The request's messages with each ``{"type": "image"}`` part replaced by ``part_for(image)``, images in order
    (every backend's wire format differs only in that part)."""
    images = iter(req.images)
    out = []
    for m in req.messages:
        c = m["content"]
        if isinstance(c, list):
            c = [part_for(next(images)) if p.get("type") == "image" else p for p in c]
        out.append({"role": m["role"], "content": c})
    return out


def split_placeholders(text: str) -> list[dict]:
    """``"<image>What is x?"`` → ``[{"type": "image"}, {"type": "text", "text": "What is x?"}]``."""
    parts: list[dict] = []
    chunks = text.split(IMAGE_PLACEHOLDER)
    for i, chunk in enumerate(chunks):
        if i > 0:
            parts.append({"type": "image"})
        if chunk:
            parts.append({"type": "text", "text": chunk})
    return parts


def decode_image(img: Any):
    """RGB PIL image from a PIL image, bytes, an HF ``{"bytes", "path"}`` dict or a path, decoded now (a truncated
    file fails here, on its row, not later inside a batched generate) by ``vero_data.images.decode_rgb``: the one
    decode of build, filter, train and eval (EXIF orientation, 16-bit grey scaled, transparency on white).

    Raises:
        RowError: ``undecodable_image``, ``empty_image``, ``decompression_bomb`` or ``missing_image``.
    """
    from vero_data.images import decode_rgb

    return decode_rgb(img)


def messages_from_row(row: dict, system_prompt: str | None = VERO_SYSTEM_PROMPT) -> tuple[list[dict], list]:
    """Canonical row (vero_data.schema) → chat messages + decoded PIL images.

    ``<image>`` placeholders become ``{"type": "image"}`` parts (text-only turns stay strings). ``system_prompt``
    is prepended unless the row already has a system turn; pass None to use the model's own default.

    Raises:
        RowError: ``bad_prompt``, ``bad_image`` (detail names the image index) or ``image_count_mismatch``, so a
            caller can quarantine the row instead of stopping a long run.
    """
    messages: list[dict] = []
    prompt = row.get("prompt")
    if isinstance(prompt, str):
        try:
            prompt = json.loads(prompt) if prompt.lstrip().startswith("[") else [{"role": "user", "content": prompt}]
        except ValueError as e:
            raise RowError("bad_prompt", f"row {row.get('id')}: prompt is not valid JSON ({e})", "prompt") from e
    if not isinstance(prompt, list) or not prompt or not all(
            isinstance(m, dict) and isinstance(m.get("role"), str) and isinstance(m.get("content"), str | list)
            for m in prompt):
        raise RowError("bad_prompt", f"row {row.get('id')}: prompt is not a non-empty list of {{role, content}} "
                                     "messages", "prompt")
    if system_prompt is not None and not any(m["role"] == "system" for m in prompt):
        messages.append({"role": "system", "content": system_prompt})
    for m in prompt:
        content = m["content"]
        if isinstance(content, str) and IMAGE_PLACEHOLDER in content:
            messages.append({"role": m["role"], "content": split_placeholders(content)})
        else:
            messages.append({"role": m["role"], "content": content})
    images = []
    for i, x in enumerate(row.get("images") or []):
        try:
            images.append(decode_image(x))
        except RowError as e:  # decode_rgb's reason (undecodable_image, decompression_bomb…) goes in the detail
            raise RowError("bad_image", f"row {row.get('id')}: image {i} cannot be decoded ({e.reason}: {e.detail})",
                           "images") from e
    n_ph = sum(1 for m in messages if isinstance(m["content"], list) for p in m["content"] if p["type"] == "image")
    if n_ph != len(images):
        raise RowError("image_count_mismatch",
                       f"row {row.get('id')}: {n_ph} <image> placeholders but {len(images)} images", "images")
    return messages, images


def request_from_row(row: dict, system_prompt: str | None = VERO_SYSTEM_PROMPT) -> ChatRequest:
    messages, images = messages_from_row(row, system_prompt)
    return ChatRequest(id=row["id"], messages=messages, images=images)
