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


def test_a_role_the_template_does_not_know_is_400(url):
    code, obj = _post(url, {"messages": [{"role": "user<|im_end|>", "content": "hi"}]})
    assert code == 400 and obj["error"]["param"] == "messages[0].role", obj


def test_routes_and_methods_answer_in_the_error_shape(url):
    root = url.rsplit("/v1/", 1)[0]
    with urllib.request.urlopen(f"{root}/v1/models", timeout=60) as r:
        assert json.loads(r.read())["data"][0]["object"] == "model"
    for path, method, code in (("/v1/nope", "GET", 404), ("/v1/chat/completions", "GET", 405),
                               ("/v1/models", "POST", 405)):
        req = urllib.request.Request(root + path, data=b"{}" if method == "POST" else None, method=method)
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(req, timeout=60)
        assert e.value.code == code and set(json.loads(e.value.read())["error"]) == {"message", "type", "param",
                                                                                     "code"}


def test_keep_alive_connections_serve_several_requests(url):
    import http.client
    from urllib.parse import urlsplit

    u = urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    for _ in range(2):
        conn.request("POST", u.path, body=json.dumps({"messages": HI, "max_tokens": 2}),
                     headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        assert r.status == 200 and json.loads(r.read())["choices"]
    conn.close()


# a second server with small caps: a chunked body (no Content-Length to refuse it by) and the pixel cap
@pytest.fixture(scope="module")
def small_url(tiny_model_dir):
    from vero_train.models.serve import make_server

    srv = make_server(str(tiny_model_dir), "127.0.0.1", 0, max_body_bytes=4096, max_pixels=64 * 64)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}/v1/chat/completions"
    srv.shutdown()
    srv.server_close()


def test_a_chunked_body_over_the_cap_is_413(small_url):
    import http.client
    from urllib.parse import urlsplit

    u = urlsplit(small_url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    chunks = [b'{"messages": [{"role": "user", "content": "', b"x" * 3000, b"x" * 3000, b'"}]}']
    conn.request("POST", u.path, body=iter(chunks), headers={"Content-Type": "application/json"},
                 encode_chunked=True)
    r = conn.getresponse()
    obj = json.loads(r.read())
    conn.close()
    assert r.status == 413 and obj["error"]["type"] == "invalid_request_error" and "4096" in obj["error"]["message"]


@pytest.mark.parametrize(("side", "ok"), [(64, True), (65, False)])
def test_the_pixel_cap_is_a_400_naming_the_part(small_url, side, ok):
    from PIL import Image

    from vero_train.models.backends.openai_http import image_data_url

    content = [{"type": "image_url", "image_url": {"url": image_data_url(Image.new("RGB", (side, side)))}}]
    code, obj = _post(small_url, {"messages": [{"role": "user", "content": content}], "max_tokens": 1})
    if ok:
        assert code == 200, obj
    else:
        assert code == 400 and obj["error"]["param"] == "messages[0].content[0]", obj
        assert "too many pixels" in obj["error"]["message"] and f"cap {64 * 64}" in obj["error"]["message"]


def test_data_url_images_are_decoded_as_the_build_decodes_them():
    """Alpha goes onto white and 16-bit grey is scaled, as in ``vero_data.images.decode_rgb`` (not PIL's
    ``convert("RGB")``, which turns a transparent pixel black and clips 16-bit grey to white)."""
    import numpy as np
    from PIL import Image

    from vero_train.models.backends.openai_http import image_data_url
    from vero_train.models.serve_requests import request_from_openai

    clear = Image.new("RGBA", (8, 8), (0, 0, 0, 0))
    grey16 = Image.fromarray(np.full((8, 8), 32896, dtype=np.uint16))  # mid grey in 16 bits
    content = [{"type": "image_url", "image_url": {"url": image_data_url(im)}} for im in (clear, grey16)]
    req = request_from_openai({"messages": [{"role": "user", "content": content}]}, "r", max_pixels=10**6)
    assert req.images[0].getpixel((0, 0)) == (255, 255, 255)
    assert req.images[1].getpixel((0, 0)) == (128, 128, 128)


@pytest.mark.parametrize(("raw", "message"), [
    (b'{"messages": [], "temperature": NaN}', "NaN"),
    (b'{"seed": 1e999}', None),
    (b"[" * 50_000 + b"]" * 50_000, "nested too deeply"),
    (b"[1, 2]", "JSON object"),
    (b"\xff\xfe", "not JSON"),
])
def test_bodies_that_are_not_json_objects(raw, message):
    from vero_train.models.serve_requests import BadRequest, parse_json_body, sampling_from_openai

    with pytest.raises(BadRequest) as e:
        sampling_from_openai(parse_json_body(raw))
    assert e.value.status == 400 and (message is None or message in str(e.value))
