"""The Starlette app of ``vero data browse``: read-only pages over one output folder.

Only GET/HEAD. Images are addressed by row id and index (``/image/ID/N``), never by path; static assets come from
the package. Responses carry a strict Content-Security-Policy (no inline scripts, nothing from other origins).
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

from vero_data.browse import queries
from vero_data.browse.pages import (
    ROW_ID,
    ServerUrls,
    available_pages,
    base_context,
    render_page,
    template_env,
)
from vero_data.browse.store import FolderView
from vero_data.browse.thumbs import THUMB_SIZES, ThumbnailCache, displayable

log = logging.getLogger(__name__)

SECURITY_HEADERS = {
    # bar widths are style attributes (values computed server-side; all row text is escaped)
    "Content-Security-Policy": "default-src 'none'; img-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; "
                               "script-src 'self'; "
                               "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")


def create_app(folder: str | Path, *, cache_root: Path | None = None, allowed_hosts: list[str] | None = None):
    """The ASGI app over ``folder`` (a build, filter or eval output).

    Args:
        folder: the output folder; opened read-only.
        cache_root: where thumbnail caches go (default ``$XDG_CACHE_HOME/vero/browse``); never inside ``folder``.
        allowed_hosts: Host headers answered (DNS-rebinding guard); None answers any.
    """
    from starlette.applications import Starlette
    from starlette.exceptions import HTTPException
    from starlette.middleware import Middleware
    from starlette.middleware.trustedhost import TrustedHostMiddleware
    from starlette.responses import HTMLResponse, Response
    from starlette.routing import Mount, Route
    from starlette.staticfiles import StaticFiles

    view = FolderView(Path(folder))
    pages = available_pages(view)
    urls = ServerUrls(pages)
    env = template_env()
    thumbs = ThumbnailCache(view.fingerprint, root=cache_root, build_root=view.root)

    def html(template: str, ctx: dict, status: int = 200) -> HTMLResponse:
        return HTMLResponse(env.get_template(template).render(ctx), status_code=status, headers=SECURITY_HEADERS)

    def error(status: int, message: str) -> HTMLResponse:
        ctx = base_context(view, urls, "", "Error" if status >= 500 else ("Not found" if status == 404 else
                                                                         "Bad request"), pages)
        return html("error.html", {**ctx, "message": message}, status)

    def page_endpoint(name: str):
        def endpoint(request):
            if name not in pages:
                return error(404, f"this folder has no {name} data")
            params = dict(request.query_params)
            try:
                template, ctx = render_page(view, name, params)
            except queries.BadParameter as e:
                return error(400, str(e))
            return html(template, {**base_context(view, urls, name, ctx["title"], pages), **ctx})

        return endpoint

    def row_id(request) -> str:
        rid = request.path_params["row_id"]
        if not ROW_ID.fullmatch(rid):
            raise HTTPException(400, "not a row id")
        return rid

    def row_page(request):
        try:
            rid = row_id(request)
        except HTTPException as e:
            return error(e.status_code, e.detail)
        d = queries.row_detail(view, rid)
        if d is None:
            return error(404, f"no row {rid} in this folder")
        return html("row.html", {**base_context(view, urls, "gallery", f"Row {rid}", pages), "d": d})

    def image(request):
        rid = row_id(request)
        data = view.image_bytes(rid, request.path_params["n"])
        if data is None:
            raise HTTPException(404, "no such image in this folder")
        body, mime, _ = displayable(data)
        return Response(body, media_type=mime, headers={**SECURITY_HEADERS, "Cache-Control": "private, max-age=3600"})

    def thumb(request):
        rid = row_id(request)
        try:
            size = int(request.query_params.get("size", 256))
        except ValueError:
            raise HTTPException(400, "size must be a whole number") from None
        if size not in THUMB_SIZES:
            raise HTTPException(400, f"size must be one of {', '.join(map(str, THUMB_SIZES))}")
        n = request.path_params["n"]
        body = thumbs.get(rid, n, size, lambda: view.image_bytes(rid, n))
        if body is None:
            raise HTTPException(404, "no such image in this folder")
        return Response(body, media_type="image/jpeg",
                        headers={**SECURITY_HEADERS, "Cache-Control": "private, max-age=3600"})

    async def http_error(request, exc):
        return Response(f"{exc.status_code}: {exc.detail}\n", status_code=exc.status_code, media_type="text/plain",
                        headers=SECURITY_HEADERS)

    static_dir = Path(__file__).with_name("static")
    routes = [Route("/" if name == "overview" else f"/{name}", page_endpoint(name), methods=["GET", "HEAD"])
              for name in ("overview", "gallery", "duplicates", "quarantine", "passk", "eval")]
    if "overview" not in pages:  # an eval folder: its page is the front page
        routes[0] = Route("/", page_endpoint(pages[0]), methods=["GET", "HEAD"])
    routes += [
        Route("/row/{row_id:str}", row_page, methods=["GET", "HEAD"]),
        Route("/image/{row_id:str}/{n:int}", image, methods=["GET", "HEAD"]),
        Route("/thumb/{row_id:str}/{n:int}", thumb, methods=["GET", "HEAD"]),
        Mount("/static", StaticFiles(directory=static_dir), name="static"),
    ]
    middleware = [Middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts)] if allowed_hosts else []
    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        view.close()

    app = Starlette(routes=routes, middleware=middleware, exception_handlers={HTTPException: http_error},
                    lifespan=lifespan)
    app.state.view = view
    app.state.pages = pages
    return app


def serve(folder: str | Path, *, host: str = "127.0.0.1", port: int = 8765, cache_root: Path | None = None) -> None:
    """Serve ``folder`` with uvicorn until interrupted (127.0.0.1 by default: nothing leaves the machine)."""
    import socket

    import uvicorn

    from vero_data.errors import VeroError

    try:  # a port in use is one line naming it, before the folder is indexed
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host.strip("[]"), port))
    except OSError as e:
        raise VeroError(f"cannot listen on {host}:{port}: {e.strerror or e}; pass another --port or --host") from None
    allowed = list(LOOPBACK) if host in LOOPBACK else None
    if allowed is None:
        log.warning("serving %s on %s: anyone who can reach this address can read it (no login)", folder, host)
    app = create_app(folder, cache_root=cache_root, allowed_hosts=allowed)
    uvicorn.run(app, host=host, port=port, log_level="warning")
