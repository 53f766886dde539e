"""A minimal OpenAI-compatible chat-completions server over the transformers backend (stdlib ``http.server``).

For tests and offline demos of the ``openai`` backend (real generations from a local model, e.g. the tiny one);
use ``vllm serve`` for anything real. Accepts ``messages`` with ``image_url`` data-URL parts, ``n``,
``temperature``, ``top_p``, ``top_k``, ``max_tokens``, ``seed``. Requests are served one at a time.
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


def _request_from_openai(body: dict, rid: str) -> ChatRequest:
    from PIL import Image

    messages, images = [], []
    for m in body["messages"]:
        c = m["content"]
        if isinstance(c, list):
            parts = []
            for p in c:
                if p.get("type") == "image_url":
                    url = p["image_url"]["url"] if isinstance(p["image_url"], dict) else p["image_url"]
                    images.append(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("RGB"))
                    parts.append({"type": "image"})
                else:
                    parts.append(p)
            c = parts
        messages.append({"role": m["role"], "content": c})
    return ChatRequest(id=rid, messages=messages, images=images)


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

        def do_GET(self):
            if self.path.rstrip("/").endswith("/models"):
                self._send(200, {"object": "list", "data": [{"id": model, "object": "model"}]})
            else:
                self._send(404, {"error": {"message": "not found"}})

        def do_POST(self):
            if not self.path.rstrip("/").endswith("/chat/completions"):
                self._send(404, {"error": {"message": "not found"}})
                return
            try:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                rid = f"chatcmpl-{next(counter)}"
                req = _request_from_openai(body, rid)
                s = SamplingConfig(temperature=float(body.get("temperature", 1.0)),
                                   top_p=float(body.get("top_p", 1.0)), top_k=body.get("top_k"),
                                   max_tokens=int(body.get("max_tokens") or 256), seed=int(body.get("seed") or 0))
                n = int(body.get("n", 1))
                with lock:
                    comps = backend.generate([req], n, s)[0]
            except Exception as e:  # report as a 400, like real servers do for bad requests
                self._send(400, {"error": {"message": str(e)}})
                return
            self._send(200, {
                "id": rid, "object": "chat.completion", "created": int(time.time()), "model": body.get("model"),
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
