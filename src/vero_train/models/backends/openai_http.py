"""OpenAI-compatible chat-completions backend (vLLM ``serve``, SGLang, TGI, OpenAI…) over stdlib HTTP.

Images travel as base64 PNG data URLs; each request asks for ``n`` choices. Requests run on a bounded thread pool
and are retried with exponential backoff on connection errors, timeouts, 429 and 5xx.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import os
import random
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from vero_train.models.chat import ChatRequest, Completion, SamplingConfig, fill_image_parts

log = logging.getLogger(__name__)

RETRY_STATUS = {408, 409, 429, 500, 502, 503, 504}


def image_data_url(img) -> str:
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def openai_messages(req: ChatRequest) -> list[dict]:
    """``{"type": "image"}`` parts → ``image_url`` parts with the request's images, in order."""
    return fill_image_parts(req, lambda im: {"type": "image_url", "image_url": {"url": image_data_url(im)}})


class OpenAIBackend:
    """Chat completions against ``base_url`` (default ``$OPENAI_BASE_URL`` or http://127.0.0.1:8000/v1).

    Args:
        model: the model name the server serves.
        base_url: server root including ``/v1``; ``user:pass@`` in it is sent as HTTP Basic auth (and never shown).
        api_key: bearer token given directly.
        api_key_env: NAME of the environment variable holding the token (``--backend-opt api_key_env=NAME``).
            With neither, ``$OPENAI_API_KEY`` is sent (as the openai client does) over https or to a loopback host,
            not over plain http to another host (one warning line says so).
        concurrency: requests in flight.
        timeout: seconds per HTTP request.
        max_retries: attempts after the first, with exponential backoff (1 s, 2 s, 4 s… + jitter).
    """

    def __init__(self, model: str, base_url: str | None = None, api_key: str | None = None, concurrency: int = 8,
                 timeout: float = 600.0, max_retries: int = 5, backoff: float = 1.0, api_key_env: str | None = None):
        from vero_data.secrets import resolve_endpoint

        self.model = model
        self._endpoint = resolve_endpoint(base_url or os.environ.get("OPENAI_BASE_URL") or "http://127.0.0.1:8000/v1",
                                          api_key, api_key_env, flag="--base-url",
                                          env_flag="--backend-opt api_key_env")
        self.base_url = self._endpoint.url.rstrip("/")  # userinfo removed; shown redacted in messages
        self.concurrency = concurrency
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff

    def generate(self, requests: list[ChatRequest], n: int, sampling: SamplingConfig) -> list[list[Completion]]:
        with ThreadPoolExecutor(max_workers=max(1, min(self.concurrency, len(requests)))) as pool:
            return list(pool.map(lambda r: self._one(r, n, sampling), requests))

    def _payload(self, req: ChatRequest, n: int, s: SamplingConfig) -> dict:
        body = {"model": self.model, "messages": openai_messages(req), "n": n, "temperature": s.temperature,
                "top_p": s.top_p, "max_tokens": s.max_tokens, "seed": s.seed}
        if s.presence_penalty:
            body["presence_penalty"] = s.presence_penalty
        if s.top_k is not None:
            body["top_k"] = s.top_k  # vLLM/SGLang extension
        return body

    def _one(self, req: ChatRequest, n: int, s: SamplingConfig) -> list[Completion]:
        data = json.dumps(self._payload(req, n, s)).encode()
        headers = {"Content-Type": "application/json", **self._endpoint.headers}
        from vero_data.errors import VeroError
        from vero_data.secrets import redact_url

        endpoint = self._endpoint.join("chat/completions")
        url = redact_url(endpoint)  # what messages and logs show
        attempt = 0
        while True:
            try:
                r = urllib.request.Request(endpoint, data=data, headers=headers)
                with urllib.request.urlopen(r, timeout=self.timeout) as resp:
                    raw = resp.read()
                try:
                    return self._parse(json.loads(raw), n)
                except (ValueError, KeyError, TypeError, AttributeError, IndexError) as e:
                    # a 200 that is not a chat completion: a wrong --base-url or not an OpenAI-compatible server
                    excerpt = " ".join(raw[:200].decode(errors="replace").split()) or "(empty body)"
                    raise VeroError(f"chat completion for {req.id}: POST {url} answered 200 but not with a chat "
                                    f"completion ({type(e).__name__}: {e}): {excerpt}") from e
            except urllib.error.HTTPError as e:
                if e.code not in RETRY_STATUS or attempt >= self.max_retries:
                    detail = " ".join(e.read()[:300].decode(errors="replace").split()) or "(empty body)"
                    hint = " (check --base-url: the server root including /v1)" if e.code in (404, 405) else ""
                    tries = f" after {attempt + 1} tries" if attempt else ""
                    raise VeroError(f"chat completion for {req.id} failed{tries}: POST {url} → HTTP {e.code} "
                                    f"{e.reason}: {detail}{hint}") from e
            except (urllib.error.URLError, TimeoutError, ConnectionError) as e:
                if attempt >= self.max_retries:
                    why = e.reason if isinstance(e, urllib.error.URLError) else e
                    raise VeroError(f"chat completion for {req.id} failed after {attempt + 1} tries: POST {url}: "
                                    f"{why} (is the server running? --base-url / $OPENAI_BASE_URL)") from e
            delay = self.backoff * 2 ** attempt * (1 + random.random() / 4)
            log.warning("retrying %s (POST %s) in %.1fs (attempt %d)", req.id, url, delay, attempt + 1)
            time.sleep(delay)
            attempt += 1

    @staticmethod
    def _parse(body: dict, n: int) -> list[Completion]:
        choices = sorted(body["choices"], key=lambda c: c.get("index", 0))
        total = (body.get("usage") or {}).get("completion_tokens")
        out = []
        for c in choices:
            text = c["message"].get("content") or ""
            ntok = c.get("n_tokens") or (round(total / len(choices)) if total else len(text.split()))
            out.append(Completion(text=text, n_tokens=int(ntok), finish_reason=c.get("finish_reason") or "stop"))
        if len(out) < n:  # some servers ignore n: ask the caller to notice rather than pad silently
            log.warning("server returned %d of %d choices", len(out), n)
        return out
