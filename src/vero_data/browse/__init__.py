"""``vero data browse``: look at a build (and at filter and eval outputs) the way a curator does.

A local, read-only web app (Starlette on uvicorn, the ``browse`` extra) over an output folder: overview against
targets, a filterable gallery paged server-side, dedup groups side by side, quarantine by stage and reason, pass-count
histograms after ``vero data filter`` and scored samples after ``vero eval``; or the same pages as a static site.

    from vero_data.browse import create_app, export_static
    export_static("demo-out", "demo-site")
"""

from __future__ import annotations

from vero_data.browse.store import FolderView


def create_app(folder, **kw):
    """The ASGI app over ``folder``; see :func:`vero_data.browse.app.create_app`."""
    from vero_data.browse.app import create_app as _create

    return _create(folder, **kw)


def serve(folder, **kw) -> None:
    """Serve ``folder`` with uvicorn; see :func:`vero_data.browse.app.serve`."""
    from vero_data.browse.app import serve as _serve

    _serve(folder, **kw)


def export_static(folder, out, **kw):
    """Write the static site; see :func:`vero_data.browse.static_site.export_static`."""
    from vero_data.browse.static_site import export_static as _export

    return _export(folder, out, **kw)


__all__ = ["FolderView", "create_app", "serve", "export_static"]
