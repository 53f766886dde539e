"""Tiny generated benchmark rows in each benchmark's hub layout, and a local judge server."""

from __future__ import annotations

import io
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from PIL import Image

from tests.helpers import send_chat_reply


def png(w: int = 32, h: int = 32, colour=(200, 30, 30)) -> bytes:
    buf = io.BytesIO()
    img = Image.new("RGB", (w, h), colour)
    img.putpixel((1, 1), (0, 0, 0))
    img.save(buf, format="PNG")
    return buf.getvalue()


class _JudgeHandler(BaseHTTPRequestHandler):
    """Answers in each prompt style's format: correct when the response says GOOD."""

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        prompt = body["messages"][0]["content"]
        self.server.requests.append(body)
        if self.server.fail_first and len(self.server.requests) == 1:
            self.send_response(500)
            self.end_headers()
            return
        if self.server.reply_fn is not None:  # a test's canned reply for this prompt
            return self._send(self.server.reply_fn(prompt))
        good = "GOOD" in prompt  # the canned responses carry the verdict
        if "Grade: A" in prompt:
            reply = "Grade: A" if good else "Grade: C"
        elif "[[N]]" in prompt:
            reply = "[[8]]" if good else "[[2]]"
        elif "single key `score`" in prompt:  # MM-Vet v2
            reply = '{"score": 1.0}' if good else '{"score": 0.2}'
        else:
            reply = "Verdict: CORRECT" if good else "Verdict: INCORRECT"
        self._send("thinking...\n" + reply)

    def _send(self, reply: str) -> None:
        send_chat_reply(self, reply)

    def log_message(self, *a):
        pass


@pytest.fixture
def judge_server():
    srv = HTTPServer(("127.0.0.1", 0), _JudgeHandler)
    srv.requests = []
    srv.fail_first = False
    srv.reply_fn = None
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield srv
    srv.shutdown()
    srv.server_close()
