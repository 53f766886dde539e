"""A minimal OpenAI-compatible chat-completions server over the transformers backend (stdlib ``http.server``).

For tests and offline demos of the ``openai`` backend (real generations from a local model, e.g. the tiny one);
use ``vllm serve`` for anything real. Accepts ``messages`` with ``image_url`` data-URL parts, ``n`` (1..128),
``temperature`` (0..2), ``top_p`` (0..1], ``top_k``, ``max_tokens`` (>= 1, prompt + max_tokens within the model's
context), ``seed``; anything else out of range is a 400 in OpenAI's error shape. No streaming. Requests are
generated one at a time.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from vero_train.models.backends import ChatRequest, SamplingConfig

log = logging.getLogger(__name__)


MAX_N = 128  # completions per request: enough for pass@k, bounded so one request cannot hold the server for hours


class BadRequest(ValueError):
    """A request the server refuses with HTTP 400; ``param`` names the offending field (OpenAI's error shape)."""

    def __init__(self, message: str, param: str | None = None):
        super().__init__(message)
        self.param = param


def _number(body: dict, key: str, default, cast, lo=None, hi=None, lo_open: bool = False):
    v = body.get(key)
    if v is None:
        return default
    if isinstance(v, bool) or not isinstance(v, (int, float)) or (cast is int and float(v) != int(v)):
        raise BadRequest(f"{key} must be {'an integer' if cast is int else 'a number'}, got {v!r}", key)
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
                       max_tokens=_number(body, "max_tokens", 256, int, 1), seed=_number(body, "seed", 0, int))
    return n, s


def _request_from_openai(body: dict, rid: str) -> ChatRequest:
    from PIL import Image

    msgs = body.get("messages")
    if not isinstance(msgs, list) or not msgs:
        raise BadRequest("messages must be a non-empty list of {role, content} objects", "messages")
    messages, images = [], []
    for i, m in enumerate(msgs):
        if not isinstance(m, dict) or not isinstance(m.get("role"), str) or "content" not in m:
            raise BadRequest(f"messages[{i}] must be an object with role and content", f"messages[{i}]")
        c = m["content"]
        if isinstance(c, list):
            parts = []
            for j, p in enumerate(c):
                where = f"messages[{i}].content[{j}]"
                if not isinstance(p, dict):
                    raise BadRequest(f"{where} must be an object", where)
                if p.get("type") == "image_url":
                    iu = p.get("image_url")
                    url = iu.get("url") if isinstance(iu, dict) else iu
                    if not isinstance(url, str) or not url.startswith("data:") or "," not in url:
                        raise BadRequest(f"{where}.image_url: only data: URLs (base64) are supported", where)
                    try:
                        images.append(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("RGB"))
                    except Exception as e:  # noqa: BLE001  (any decode failure is the client's bad image)
                        raise BadRequest(f"{where}.image_url: not a decodable image ({type(e).__name__})", where) from e
                    parts.append({"type": "image"})
                elif p.get("type") == "text" and isinstance(p.get("text"), str):
                    parts.append(p)
                else:
                    raise BadRequest(f"{where}: expected a text or image_url part", where)
            c = parts
        elif not isinstance(c, str):
            raise BadRequest(f"messages[{i}].content must be a string or a list of parts", f"messages[{i}].content")
        messages.append({"role": m["role"], "content": c})
    return ChatRequest(id=rid, messages=messages, images=images)


def _check_context(backend, req: ChatRequest, max_tokens: int) -> None:
    """Prompt text tokens + max_tokens must fit the model's context (image tokens come on top, so this is a lower
    bound): a 2 MB prompt is a 400, not an hour of generation holding the server's lock."""
    cfg = backend.model.config
    ctx = getattr(getattr(cfg, "text_config", cfg), "max_position_embeddings", None)
    if not ctx:
        return
    text = backend.processor.apply_chat_template(req.messages, add_generation_prompt=True, tokenize=False)
    if len(text) // 8 > ctx:  # cheap bound first: tokens >= chars / 8 for any BPE vocabulary worth the name
        raise BadRequest(f"prompt is far longer than the model's context of {ctx} tokens", "messages")
    n_prompt = len(backend.processor.tokenizer(text, add_special_tokens=False)["input_ids"])
    if n_prompt + max_tokens > ctx:
        raise BadRequest(f"prompt ({n_prompt} tokens) + max_tokens ({max_tokens}) exceeds the model's context of "
                         f"{ctx} tokens", "max_tokens" if n_prompt < ctx else "messages")


def make_server(model: str, host: str = "127.0.0.1", port: int = 0, **backend_kwargs) -> ThreadingHTTPServer:
    """A ready (not yet serving) server; ``server.server_address`` has the bound port.

    The port is bound before the model loads, so a port in use fails at once (one line, no traceback).
    """
    from vero_data.errors import VeroError
    from vero_train.models.backends import get_backend

    backend = None
    lock = threading.Lock()
    counter = iter(range(1 << 62))

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, fmt, *args):  # quiet: route to logging
            log.debug(fmt, *args)

        def _send(self, code: int, obj: dict) -> None:
            data = json.dumps(obj).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _error(self, code: int, message: str, param: str | None = None,
                   kind: str = "invalid_request_error") -> None:
            self._send(code, {"error": {"message": message, "type": kind, "param": param, "code": None}})

        def do_GET(self):
            if self.path.rstrip("/").endswith("/models"):
                self._send(200, {"object": "list", "data": [{"id": model, "object": "model"}]})
            else:
                self._error(404, f"no route {self.path}", None, "not_found_error")

        def do_POST(self):
            if not self.path.rstrip("/").endswith("/chat/completions"):
                self._error(404, f"no route {self.path}", None, "not_found_error")
                return
            try:
                try:
                    body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                except ValueError as e:
                    raise BadRequest(f"the body is not JSON ({e})") from e
                if not isinstance(body, dict):
                    raise BadRequest("the body must be a JSON object")
                rid = f"chatcmpl-{next(counter)}"
                n, s = sampling_from_openai(body)
                req = _request_from_openai(body, rid)
                _check_context(backend, req, s.max_tokens)
            except BadRequest as e:
                self._error(400, str(e), e.param)
                return
            try:
                with lock:
                    comps = backend.generate([req], n, s)[0]
            except Exception as e:  # noqa: BLE001  (the server keeps serving; the client gets the reason)
                log.exception("generation failed")
                self._error(500, f"generation failed: {type(e).__name__}: {e}", None, "server_error")
                return
            self._send(200, {
                "id": rid, "object": "chat.completion", "created": int(time.time()),
                "model": body.get("model") or model,
                "choices": [{"index": i, "message": {"role": "assistant", "content": c.text},
                             "finish_reason": c.finish_reason, "n_tokens": c.n_tokens} for i, c in enumerate(comps)],
                "usage": {"completion_tokens": sum(c.n_tokens for c in comps)},
            })

    try:
        srv = ThreadingHTTPServer((host, port), Handler)
    except OSError as e:
        raise VeroError(f"cannot listen on {host}:{port}: {e.strerror or e} (pick another --port)") from e
    try:
        backend = get_backend("transformers", model, **backend_kwargs)
    except BaseException:
        srv.server_close()
        raise
    return srv


def serve(model: str, host: str = "127.0.0.1", port: int = 8000) -> None:
    from vero_train.models.tiny import resolve_model

    srv = make_server(resolve_model(model), host, port)
    print(f"serving {model} on http://{host}:{srv.server_address[1]}/v1")
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        srv.server_close()
