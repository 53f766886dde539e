"""A small OpenAI-compatible chat-completions server over the transformers backend, on uvicorn.

For tests and offline demos of the ``openai`` backend (real generations from a local model, e.g. the tiny one);
use ``vllm serve`` for anything real. ``POST /v1/chat/completions`` accepts ``messages`` with ``image_url``
data-URL parts, ``n`` (1..128), ``temperature`` (0..2), ``top_p`` (0..1], ``top_k``, ``max_tokens`` (>= 1,
prompt + max_tokens within the model's context) and ``seed``; ``GET /v1/models`` lists the model. No streaming.
Anything the server refuses is answered in OpenAI's error shape (:mod:`vero_train.models.serve_requests`).

Why uvicorn and not ``http.server``: HTTP parsing is where the standard library server failed (a negative
Content-Length blocked a thread forever, a listen backlog of 5 reset concurrent clients, one thread per
connection); uvicorn parses with h11, queues connections on an event loop with a real backlog and times out idle
keep-alive connections. Two routes need no web framework, so the app is plain ASGI. Requests are read
concurrently and generated one at a time (FIFO) behind one lock; decoding and validation run inside that lock
too, so at most one request's images are in memory decoded.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import socket
import threading
import time

from vero_train.models.serve_requests import (
    BadRequest,
    check_context,
    error_body,
    parse_json_body,
    request_from_openai,
    sampling_from_openai,
)

log = logging.getLogger(__name__)

DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024  # a few base64 images at the pixel cap fit; a runaway client does not
DEFAULT_BACKLOG = 2048  # pending connections the kernel queues while one request generates (uvicorn's default)
HEADER_TIMEOUT_S = 30.0  # a connection that has not sent a whole request line + headers by then is closed
KEEP_ALIVE_S = 5.0  # an idle keep-alive connection is closed after this (uvicorn's default)


def _open_files_limit() -> int:
    """Raise the soft open-files limit to the hard one and return it: connections are file descriptors."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):
            pass
    return soft if soft != resource.RLIM_INFINITY else 1 << 16


def _asgi_app(backend, model: str, max_body_bytes: int, max_pixels: int):
    """The ASGI app: ``GET …/models`` and ``POST …/chat/completions`` (with or without the ``/v1`` prefix)."""
    lock = asyncio.Lock()  # bound to the loop on first use; FIFO, so queued requests are answered in order
    counter = itertools.count()

    async def send_json(send, status: int, obj: dict) -> None:
        data = json.dumps(obj).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]})
        await send({"type": "http.response.body", "body": data})

    async def read_body(scope, receive) -> bytes | None:
        """The body, or None when the client went away; over ``max_body_bytes`` is a 413, refused from the
        Content-Length header before reading when it has one (h11 has already checked that it is a number)."""
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and int(declared) > max_body_bytes:
            raise BadRequest(f"the body is {int(declared)} bytes, over this server's cap of {max_body_bytes}",
                             status=413)
        body = bytearray()
        while True:
            msg = await receive()
            if msg["type"] == "http.disconnect":
                return None
            body += msg.get("body", b"")
            if len(body) > max_body_bytes:  # a chunked body has no Content-Length to check first
                raise BadRequest(f"the body is over this server's cap of {max_body_bytes} bytes", status=413)
            if not msg.get("more_body"):
                return bytes(body)

    def complete(raw: bytes, rid: str) -> tuple[int, dict]:
        """Runs in a worker thread, one at a time: parse, validate, decode, generate."""
        try:
            body = parse_json_body(raw)
            n, s = sampling_from_openai(body)
            req = request_from_openai(body, rid, max_pixels)
            check_context(backend, req, s.max_tokens)
        except BadRequest as e:
            return e.status, error_body(str(e), e.param)
        try:
            comps = backend.generate([req], n, s)[0]
        except Exception as e:  # noqa: BLE001  (the server keeps serving; the client gets the reason)
            log.exception("generation failed")
            return 500, error_body(f"generation failed: {type(e).__name__}: {e}", None, "server_error")
        return 200, {
            "id": rid, "object": "chat.completion", "created": int(time.time()),
            "model": body.get("model") or model,
            "choices": [{"index": i, "message": {"role": "assistant", "content": c.text},
                         "finish_reason": c.finish_reason, "n_tokens": c.n_tokens} for i, c in enumerate(comps)],
            "usage": {"completion_tokens": sum(c.n_tokens for c in comps)},
        }

    async def app(scope, receive, send) -> None:
        if scope["type"] != "http":  # lifespan is off and websockets are not served
            return
        path, method = scope["path"].rstrip("/"), scope["method"]
        route = "models" if path.endswith("/models") else "chat" if path.endswith("/chat/completions") else None
        try:
            if route is None:
                await send_json(send, 404, error_body(f"no route {scope['path']}", None, "not_found_error"))
            elif (route, method) not in (("models", "GET"), ("chat", "POST")):
                await send_json(send, 405, error_body(f"{method} is not allowed on {scope['path']}"))
            elif route == "models":
                await send_json(send, 200, {"object": "list", "data": [{"id": model, "object": "model"}]})
            else:
                try:
                    raw = await read_body(scope, receive)
                except BadRequest as e:
                    await send_json(send, e.status, error_body(str(e), e.param))
                    return
                if raw is None:
                    return
                rid = f"chatcmpl-{next(counter)}"
                async with lock:
                    status, obj = await asyncio.to_thread(complete, raw, rid)
                await send_json(send, status, obj)
        except Exception as e:  # noqa: BLE001  (a bug here must still answer in the error shape)
            log.exception("request failed")
            await send_json(send, 500, error_body(f"{type(e).__name__}: {e}", None, "server_error"))

    return app


def _json_400_protocol():
    """uvicorn's h11 protocol, answering malformed HTTP in OpenAI's error shape instead of plain text.

    h11 refuses a negative or non-numeric Content-Length, oversized headers or a garbled request line before the
    app sees the request; uvicorn then sends a text/plain 400. Same status, same connection close, JSON body.
    """
    import h11
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class OpenAIErrorH11Protocol(H11Protocol):
        """Also closes a connection that sends no whole request head within :data:`HEADER_TIMEOUT_S` (h11 has no
        such timeout; without it, slow clients each hold a file descriptor forever)."""

        _head_timer = None

        def connection_made(self, transport) -> None:
            super().connection_made(transport)
            self._head_timer = self.loop.call_later(HEADER_TIMEOUT_S, self._head_timeout)

        def _head_timeout(self) -> None:
            if self.cycle is None and not self.transport.is_closing():  # no request has started on it
                self.transport.close()

        def handle_events(self) -> None:
            super().handle_events()
            if self.cycle is not None and self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None

        def connection_lost(self, exc) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
            super().connection_lost(exc)

        def send_400_response(self, msg: str) -> None:
            data = json.dumps(error_body("invalid HTTP request: a malformed request line, header or Content-Length, "
                                         "or headers over h11's size limit")).encode()
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode()),
                       (b"connection", b"close")]
            for event in (h11.Response(status_code=400, headers=headers, reason=b"Bad Request"), h11.Data(data=data),
                          h11.EndOfMessage()):
                self.transport.write(self.conn.send(event))
            self.transport.close()

    return OpenAIErrorH11Protocol


class ChatServer:
    """uvicorn serving the chat app on a socket bound beforehand, with ``socketserver``'s surface: run
    ``serve_forever()`` (in a thread, or the main thread, where Ctrl-C stops it), then ``shutdown()`` from another
    thread and ``server_close()``. ``server_address`` has the bound ``(host, port)``."""

    def __init__(self, sock: socket.socket, app, backlog: int):
        import uvicorn

        self.socket = sock
        self.server_address = sock.getsockname()[:2]
        # Connections beyond limit_concurrency are answered 503 at once; it stays well under the open-files limit,
        # so a flood of idle connections cannot run the process out of descriptors.
        limit = max(16, min(4096, _open_files_limit() - 128))
        config = uvicorn.Config(app, http=_json_400_protocol(), ws="none", lifespan="off", interface="asgi3",
                                backlog=backlog, log_config=None, log_level="warning", access_log=False,
                                timeout_graceful_shutdown=30, limit_concurrency=limit,
                                timeout_keep_alive=KEEP_ALIVE_S)
        self._server = uvicorn.Server(config)
        self._running = threading.Event()
        self._stopped = threading.Event()

    def serve_forever(self) -> None:
        self._running.set()
        try:
            self._server.run(sockets=[self.socket])
        finally:
            self._stopped.set()

    def shutdown(self) -> None:
        """Stop serving (in-flight requests finish) and wait until ``serve_forever`` has returned."""
        self._server.should_exit = True
        if self._running.is_set():
            self._stopped.wait()

    def server_close(self) -> None:
        self.socket.close()


def _bind(host: str, port: int, backlog: int) -> socket.socket:
    from vero_data.errors import VeroError

    try:
        family, kind, proto, _, addr = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                          flags=socket.AI_PASSIVE)[0]
        sock = socket.socket(family, kind, proto)
    except OSError as e:
        raise VeroError(f"cannot listen on {host}:{port}: {e.strerror or e}") from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # restart at once after a stop (TIME_WAIT)
        sock.bind(addr)
        sock.listen(backlog)  # clients that connect while the model loads wait in the queue
    except OSError as e:
        sock.close()
        raise VeroError(f"cannot listen on {host}:{port}: {e.strerror or e} (pick another --port)") from None
    return sock


def make_server(model: str, host: str = "127.0.0.1", port: int = 0, *,
                max_body_bytes: int = DEFAULT_MAX_BODY_BYTES, max_pixels: int | None = None,
                backlog: int = DEFAULT_BACKLOG, **backend_kwargs) -> ChatServer:
    """A ready (not yet serving) server; ``server.server_address`` has the bound port.

    The port is bound before the model loads, so a port in use fails at once (one line, no traceback).

    Args:
        model: model path (``tiny`` is resolved by :func:`serve`).
        host: bind address; 127.0.0.1 keeps it off the network.
        port: 0 picks a free port.
        max_body_bytes: larger request bodies are refused with 413.
        max_pixels: pixel cap per image and per request, read from the image headers before decoding (400 above
            it); default the build's cap, ``vero_data.images.DEFAULT_MAX_PIXELS``.
        backlog: listen queue length.
        **backend_kwargs: for the transformers backend (``device``, ``dtype``…).
    """
    try:
        import uvicorn  # noqa: F401  (fail before binding, in one line)
    except ImportError as e:
        from vero_data.errors import MissingDependencyError

        raise MissingDependencyError("vero model serve needs uvicorn: pip install 'vero-toolkit[train]'") from e
    from vero_data.images import DEFAULT_MAX_PIXELS
    from vero_train.models.backends import get_backend

    sock = _bind(host, port, backlog)
    try:
        backend = get_backend("transformers", model, **backend_kwargs)
        app = _asgi_app(backend, model, max_body_bytes, max_pixels or DEFAULT_MAX_PIXELS)
        return ChatServer(sock, app, backlog)
    except BaseException:
        sock.close()
        raise


def serve(model: str, host: str = "127.0.0.1", port: int = 8000, **kwargs) -> None:
    """Serve ``model`` (a path, or ``tiny``) until Ctrl-C; ``kwargs`` as for :func:`make_server`."""
    from vero_train.models.tiny import resolve_model

    srv = make_server(resolve_model(model), host, port, **kwargs)
    # The event loop's own errors (say, accept() out of descriptors) go to a plain handler: the CLI's rich
    # handler imports lazily, and an import that fails for lack of descriptors would end the server.
    aio = logging.getLogger("asyncio")
    aio.handlers, aio.propagate = [logging.StreamHandler()], False
    shown = f"[{host}]" if ":" in host else host
    print(f"serving {model} on http://{shown}:{srv.server_address[1]}/v1", flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        srv.server_close()
