"""Chat-completions request bodies for ``vero model serve``: parse, range-check and decode, or refuse with a
:class:`BadRequest` that the server sends in OpenAI's error shape. No HTTP here (see :mod:`vero_train.models.serve`).
"""

from __future__ import annotations

import base64
import binascii
import json
import math

from vero_train.models.backends import ChatRequest, SamplingConfig

MAX_N = 128  # completions per request: enough for pass@k, bounded so one request cannot hold the server for hours
ROLES = ("system", "user", "assistant")  # what the chat templates render; any other role is the client's mistake


class BadRequest(ValueError):
    """A request the server refuses; ``param`` names the offending field and ``status`` is the HTTP code (400, or
    413 for a body over the size cap), as in OpenAI's error shape."""

    def __init__(self, message: str, param: str | None = None, status: int = 400):
        super().__init__(message)
        self.param = param
        self.status = status


def error_body(message: str, param: str | None = None, kind: str = "invalid_request_error") -> dict:
    """OpenAI's error object: ``{"error": {"message", "type", "param", "code"}}``."""
    return {"error": {"message": message, "type": kind, "param": param, "code": None}}


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON (RFC 8259 has no NaN or Infinity)")


def parse_json_body(raw: bytes) -> dict:
    """The request body as a JSON object. Python's ``json`` accepts ``NaN``/``Infinity`` and recurses once per
    nesting level; both are refused here (a NaN temperature would pass every range check)."""
    try:
        body = json.loads(raw, parse_constant=_reject_constant)
    except RecursionError:
        raise BadRequest("the body is nested too deeply to be a chat request") from None
    except ValueError as e:  # JSONDecodeError, UnicodeDecodeError, the constants above, ints over 4300 digits
        raise BadRequest(f"the body is not JSON ({e})") from None
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    return body


def _number(body: dict, key: str, default, cast, lo=None, hi=None, lo_open: bool = False):
    v = body.get(key)
    if v is None:
        return default
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise BadRequest(f"{key} must be {'an integer' if cast is int else 'a number'}, got {v!r}", key)
    if isinstance(v, float) and not math.isfinite(v):  # 1e999 parses as inf
        raise BadRequest(f"{key} must be a finite number, got {v!r}", key)
    if cast is int and float(v) != int(v):
        raise BadRequest(f"{key} must be an integer, got {v!r}", key)
    v = cast(v)
    if lo is not None and (v <= lo if lo_open else v < lo):
        raise BadRequest(f"{key} must be {'>' if lo_open else '>='} {lo}, got {v}", key)
    if hi is not None and v > hi:
        raise BadRequest(f"{key} must be <= {hi}, got {v}", key)
    return v


def sampling_from_openai(body: dict) -> tuple[int, SamplingConfig]:
    """``(n, sampling)`` from a request body, range-checked as OpenAI/vLLM do (a bad value is a 400, never a
    silent default)."""
    if body.get("stream"):
        raise BadRequest("stream is not supported by this server (send stream: false)", "stream")
    n = _number(body, "n", 1, int, 1, MAX_N)
    top_k = _number(body, "top_k", None, int, -1)
    if top_k == 0:
        raise BadRequest("top_k must be -1 (off) or >= 1, got 0", "top_k")
    s = SamplingConfig(temperature=_number(body, "temperature", 1.0, float, 0.0, 2.0),
                       top_p=_number(body, "top_p", 1.0, float, 0.0, 1.0, lo_open=True),
                       top_k=None if top_k in (None, -1) else top_k,
                       max_tokens=_number(body, "max_tokens", 256, int, 1),
                       seed=_number(body, "seed", 0, int, -(1 << 63), (1 << 64) - 1))
    return n, s


MAX_IMAGES = 32  # images per request: far above any benchmark's, far below what would exhaust memory


def _image_bytes(url, where: str) -> bytes:
    if not isinstance(url, str) or not url.startswith("data:") or "," not in url:
        raise BadRequest(f"{where}.image_url: only data: URLs (base64) are supported", where)
    try:
        return base64.b64decode(url.split(",", 1)[1], validate=False)
    except (binascii.Error, ValueError) as e:
        raise BadRequest(f"{where}.image_url: not base64 ({e})", where) from None


def _header_pixels(data: bytes, where: str) -> int:
    """Pixels an image will decode to, from its header alone (nothing is decoded)."""
    import io

    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as im:
            w, h = im.size
    except Exception as e:  # noqa: BLE001  (PIL raises many types for garbage)
        raise BadRequest(f"{where}.image_url: not a decodable image ({type(e).__name__})", where) from None
    return w * h


def _decode(data: bytes, where: str, max_pixels: int):
    """Bytes → RGB PIL image, decoded as the build, filter and eval decode (``vero_data.images.decode_rgb``:
    EXIF orientation, 16-bit scaling, alpha on white), with the pixel cap read from the header first."""
    from vero_data.errors import RowError
    from vero_data.images import decode_rgb

    try:
        return decode_rgb(data, max_pixels=max_pixels)
    except RowError as e:
        what = "too many pixels" if e.reason == "decompression_bomb" else "not a decodable image"
        raise BadRequest(f"{where}.image_url: {what} ({e})", where) from None


def _check_text(text: str, where: str) -> str:
    from vero_data.stages.base import LONE_SURROGATE

    m = LONE_SURROGATE.search(text)
    if m:  # cannot be encoded as UTF-8, so it cannot be tokenized: the client's error, not ours
        raise BadRequest(f"{where} has a lone surrogate U+{ord(m.group()):04X} at character {m.start()} (not "
                         "valid Unicode text)", where)
    return text


def request_from_openai(body: dict, rid: str, max_pixels: int) -> ChatRequest:
    """The ``messages`` of a request body as a :class:`ChatRequest`: text parts kept, ``image_url`` data URLs
    decoded into ``{"type": "image"}`` parts and the request's images. ``max_pixels`` bounds each image and the
    request's images together (at most :data:`MAX_IMAGES`), read from the headers before anything is decoded."""
    msgs = body.get("messages")
    if not isinstance(msgs, list) or not msgs:
        raise BadRequest("messages must be a non-empty list of {role, content} objects", "messages")
    messages, encoded = [], []
    for i, m in enumerate(msgs):
        if not isinstance(m, dict) or not isinstance(m.get("role"), str) or "content" not in m:
            raise BadRequest(f"messages[{i}] must be an object with role and content", f"messages[{i}]")
        if m["role"] not in ROLES:
            raise BadRequest(f"messages[{i}].role must be one of {', '.join(ROLES)}, got {m['role'][:40]!r}",
                             f"messages[{i}].role")
        c = m["content"]
        if isinstance(c, list):
            parts = []
            for j, p in enumerate(c):
                where = f"messages[{i}].content[{j}]"
                if not isinstance(p, dict):
                    raise BadRequest(f"{where} must be an object", where)
                if p.get("type") == "image_url":
                    iu = p.get("image_url")
                    if len(encoded) >= MAX_IMAGES:
                        raise BadRequest(f"more than {MAX_IMAGES} images in one request", where)
                    encoded.append((_image_bytes(iu.get("url") if isinstance(iu, dict) else iu, where), where))
                    parts.append({"type": "image"})
                elif p.get("type") == "text" and isinstance(p.get("text"), str):
                    parts.append({"type": "text", "text": _check_text(p["text"], f"{where}.text")})
                else:
                    raise BadRequest(f"{where}: expected a text or image_url part", where)
            c = parts
        elif not isinstance(c, str):
            raise BadRequest(f"messages[{i}].content must be a string or a list of parts", f"messages[{i}].content")
        else:
            _check_text(c, f"messages[{i}].content")
        messages.append({"role": m["role"], "content": c})
    total = 0
    for data, where in encoded:  # the budget from the headers first: one request cannot decode 8 × 8192² images
        px = _header_pixels(data, where)
        if px > max_pixels:
            raise BadRequest(f"{where}.image_url: too many pixels ({px} pixels > cap {max_pixels})", where)
        total += px
        if total > max_pixels:
            raise BadRequest(f"the request's images hold over {max_pixels:,} pixels together (this server's cap per "
                             "request); send fewer or smaller images", where)
    images = [_decode(data, where, max_pixels) for data, where in encoded]
    from vero_data.errors import RowError

    try:  # ChatRequest checks its images again (the build's cap): a larger max_pixels cannot go past it
        return ChatRequest(id=rid, messages=messages, images=images)
    except RowError as e:
        raise BadRequest(f"an image cannot be used ({e})", "messages") from None


def check_context(backend, req: ChatRequest, max_tokens: int) -> int:
    """Prompt text tokens + max_tokens must fit the model's context (image tokens come on top, so this is a lower
    bound): a 2 MB prompt is a 400, not an hour of generation holding the server's lock. Returns the prompt's
    text token count. ``backend`` is a :class:`~vero_train.models.backends.hf.TransformersBackend`; the prompt is
    rendered as it generates (special tokens in the text escaped)."""
    cfg = backend.model.config
    ctx = getattr(getattr(cfg, "text_config", cfg), "max_position_embeddings", None)
    text = backend.render(req)
    if ctx and len(text) // 8 > ctx:  # cheap bound first: tokens >= chars / 8 for any BPE vocabulary worth the name
        raise BadRequest(f"prompt is far longer than the model's context of {ctx} tokens", "messages")
    n_prompt = len(backend.processor.tokenizer(text, add_special_tokens=False)["input_ids"])
    if ctx and n_prompt + max_tokens > ctx:
        raise BadRequest(f"prompt ({n_prompt} tokens) + max_tokens ({max_tokens}) exceeds the model's context of "
                         f"{ctx} tokens", "max_tokens" if n_prompt < ctx else "messages")
    return n_prompt
