"""`vero model serve` refuses bad chat requests with OpenAI-shaped 400s and keeps serving."""

from __future__ import annotations

import base64
import io
import json
import threading
import urllib.error
import urllib.request

import pytest


@pytest.fixture(scope="module")
def url(tiny_model_dir):
    from vero_train.models.serve import make_server

    srv = make_server(str(tiny_model_dir), "127.0.0.1", 0)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}/v1/chat/completions"
    srv.shutdown()
    srv.server_close()


def _post(url: str, body) -> tuple[int, dict]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def _png() -> str:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (32, 32), "red").save(buf, "PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


HI = [{"role": "user", "content": "hi"}]


@pytest.mark.parametrize(("body", "param"), [
    ({"messages": HI, "n": 0}, "n"),
    ({"messages": HI, "n": 1000}, "n"),
    ({"messages": HI, "max_tokens": 0}, "max_tokens"),
    ({"messages": HI, "max_tokens": 10**9}, "max_tokens"),
    ({"messages": HI, "temperature": -1}, "temperature"),
    ({"messages": HI, "top_p": 2}, "top_p"),
    ({"messages": HI, "top_k": 0}, "top_k"),
    ({"messages": HI, "n": "2"}, "n"),
    ({"messages": HI, "stream": True}, "stream"),
    ({"messages": []}, "messages"),
    ({}, "messages"),
    ({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "http://x/a.png"}}]}]},
     "messages[0].content[0]"),
    ({"messages": [{"role": "user", "content": [{"type": "image_url",
                                                 "image_url": {"url": "data:image/png;base64,bm90IGFuIGltYWdl"}}]}]},
     "messages[0].content[0]"),
    ({"messages": [{"role": "user", "content": "word " * 400_000}]}, "messages"),
])
def test_bad_requests_are_400_with_the_param(url, body, param):
    code, obj = _post(url, body)
    assert code == 400 and obj["error"]["type"] == "invalid_request_error" and obj["error"]["param"] == param, obj


def test_not_json_is_400_and_the_server_keeps_serving(url):
    code, obj = _post(url, b"{not json")
    assert code == 400 and "not JSON" in obj["error"]["message"]
    content = [{"type": "text", "text": "What colour?"}, {"type": "image_url", "image_url": {"url": _png()}}]
    code, obj = _post(url, {"messages": [{"role": "user", "content": content}], "n": 2, "max_tokens": 4})
    assert code == 200 and len(obj["choices"]) == 2 and obj["model"]  # the served model when the request names none
