"""Generation backends behind one interface: batched chat requests with images → ``n`` completions each.

``transformers`` (CPU or GPU, ``generate`` with ``num_return_sequences``), ``openai`` (any OpenAI-compatible
chat-completions server, stdlib HTTP) and ``vllm`` (offline ``LLM.chat`` with ``SamplingParams(n=…)``).
Importing this module is cheap; each backend imports its heavy dependency when constructed.
"""

from __future__ import annotations

import io
import json
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from vero_train.models.prompts import VERO_SYSTEM_PROMPT

__all__ = [
    "BACKENDS",
    "VERO_SYSTEM_PROMPT",
    "ChatRequest",
    "Completion",
    "GenerationBackend",
    "SamplingConfig",
    "get_backend",
    "messages_from_row",
]

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
    """One prompt: OpenAI-style ``messages`` (content = str or parts) and its images in placeholder order."""

    id: str
    messages: list[dict]
    images: list = field(default_factory=list)


@dataclass
class Completion:
    text: str
    n_tokens: int
    finish_reason: str  # "stop" | "length"


class GenerationBackend(Protocol):
    def generate(self, requests: list[ChatRequest], n: int, sampling: SamplingConfig) -> list[list[Completion]]:
        """``n`` completions per request, in request order."""
        ...


BACKENDS = ("transformers", "openai", "vllm")


def get_backend(kind: str, model: str, **kwargs: Any) -> GenerationBackend:
    """Construct a backend by name.

    Args:
        kind: ``transformers``, ``openai`` or ``vllm``.
        model: HF id, local path or ``tiny`` (resolved with ``vero_train.models.resolve_model``); for ``openai``
            the model name the server knows.
        **kwargs: backend options (``device``, ``batch_size``; ``base_url``, ``concurrency``; ``tensor_parallel_size``…).
    """
    from vero_train.models.tiny import resolve_model

    if kind == "transformers":
        from vero_train.models.backends.hf import TransformersBackend

        return TransformersBackend(resolve_model(model), **kwargs)
    if kind == "openai":
        from vero_train.models.backends.openai_http import OpenAIBackend

        return OpenAIBackend(model, **kwargs)
    if kind == "vllm":
        from vero_train.models.backends.vllm import VLLMBackend

        return VLLMBackend(resolve_model(model), **kwargs)
    import difflib

    close = difflib.get_close_matches(kind, BACKENDS, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    from vero_data.errors import ConfigError

    raise ConfigError(f"unknown backend {kind!r}{hint}; available: {', '.join(BACKENDS)}")


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
    """PIL image from a PIL image, bytes, an HF ``{"bytes", "path"}`` dict or a path; converted to RGB."""
    from PIL import Image

    if isinstance(img, Image.Image):
        out = img
    elif isinstance(img, bytes | bytearray):
        out = Image.open(io.BytesIO(img))
    elif isinstance(img, dict):
        out = Image.open(io.BytesIO(img["bytes"])) if img.get("bytes") else Image.open(img["path"])
    else:
        out = Image.open(img)
    return out.convert("RGB") if out.mode != "RGB" else out


def messages_from_row(row: dict, system_prompt: str | None = VERO_SYSTEM_PROMPT) -> tuple[list[dict], list]:
    """Canonical row (vero_data.schema) → chat messages + decoded PIL images.

    ``<image>`` placeholders become ``{"type": "image"}`` parts (text-only turns stay strings). ``system_prompt``
    is prepended unless the row already has a system turn; pass None to use the model's own default.
    """
    messages: list[dict] = []
    prompt = row["prompt"]
    if isinstance(prompt, str):
        prompt = json.loads(prompt) if prompt.lstrip().startswith("[") else [{"role": "user", "content": prompt}]
    if system_prompt is not None and not any(m["role"] == "system" for m in prompt):
        messages.append({"role": "system", "content": system_prompt})
    for m in prompt:
        content = m["content"]
        if IMAGE_PLACEHOLDER in content:
            messages.append({"role": m["role"], "content": split_placeholders(content)})
        else:
            messages.append({"role": m["role"], "content": content})
    images = [decode_image(x) for x in (row.get("images") or [])]
    n_ph = sum(1 for m in messages if isinstance(m["content"], list) for p in m["content"] if p["type"] == "image")
    if n_ph != len(images):
        from vero_data.errors import VeroError

        raise VeroError(f"row {row.get('id')}: {n_ph} <image> placeholders but {len(images)} images")
    return messages, images


def request_from_row(row: dict, system_prompt: str | None = VERO_SYSTEM_PROMPT) -> ChatRequest:
    messages, images = messages_from_row(row, system_prompt)
    return ChatRequest(id=row["id"], messages=messages, images=images)
