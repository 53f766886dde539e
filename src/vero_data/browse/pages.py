"""Pages as (template, context) pairs, shared by the server and the static export; links come from a ``urls``
object (:class:`ServerUrls` here, the static export's own), so a template never builds a path itself."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from vero_data.browse import queries
from vero_data.browse.store import FolderView

PAGES = ("overview", "gallery", "duplicates", "quarantine", "passk", "eval")
LABELS = {"overview": "Overview", "gallery": "Gallery", "duplicates": "Duplicates", "quarantine": "Quarantine",
          "passk": "Pass@k", "eval": "Eval"}
GALLERY_LABELS = [("category", "category"), ("source", "source"), ("reward_type", "reward type"),
                  ("split", "split"), ("license", "licence"), ("pass_count", "pass count"), ("status", "status")]
ROW_ID = re.compile(r"[A-Za-z0-9_.:\-]{1,128}")  # what a row id in a URL may look like


def available_pages(v: FolderView) -> list[str]:
    """The pages this folder has data for (a build: all but eval; an eval run: eval only)."""
    out = []
    if v.shards or v.tables:
        out += ["overview", "gallery", "duplicates", "quarantine"]
    if "difficulty" in v.tables or v.scalar("SELECT count(*) FROM shard_rows WHERE pass_count IS NOT NULL"):
        out.append("passk")
    if v.eval_samples or v.eval_results:
        out.append("eval")
    return out


class ServerUrls:
    """Links of the live server: query strings for listings, ``/row/ID``, ``/image/ID/N``, ``/thumb/ID/N``."""

    def __init__(self, pages: list[str]):
        self.pages = pages

    def page(self, name: str, **params) -> str | None:
        if name not in self.pages:
            return None
        path = "/" if name == "overview" else f"/{name}"
        q = {k: v for k, v in params.items() if v not in (None, "") and not (k == "page" and v == 1)}
        return path + ("?" + urlencode(q) if q else "")

    def row(self, row_id: str) -> str | None:
        return f"/row/{quote(row_id, safe='')}"

    def image(self, row_id: str, n: int = 0) -> str | None:
        return f"/image/{quote(row_id, safe='')}/{int(n)}"

    def thumb(self, row_id: str, n: int = 0, size: int = 256) -> str | None:
        return f"/thumb/{quote(row_id, safe='')}/{int(n)}?size={int(size)}"

    def static(self, name: str) -> str:
        return f"/static/{name}"


def base_context(v: FolderView, urls, active: str, title: str, pages: list[str], static: bool = False) -> dict:
    return {"u": urls, "active": active, "title": title, "folder": str(v.root), "folder_name": Path(v.root).name,
            "nav": [(p, LABELS[p]) for p in pages], "static": static}


def render_page(v: FolderView, name: str, params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Template name and page-specific context for listing page ``name`` with URL parameters ``params``.

    Raises:
        queries.BadParameter: a parameter the page does not accept.
    """
    if name == "overview":
        return "overview.html", {"title": "Overview", "o": queries.overview(v), "n_shards": len(v.shards)}
    if name == "gallery":
        page, applied = queries.gallery(v, params)
        return "gallery.html", {"title": "Gallery", "page": page, "applied": applied,
                                "options": queries.gallery_options(v), "filters": GALLERY_LABELS,
                                "orders": list(queries.GALLERY_ORDERS)}
    if name == "duplicates":
        page, extra = queries.duplicates(v, params)
        return "duplicates.html", {"title": "Duplicates", "page": page, **extra}
    if name == "quarantine":
        counts = queries.quarantine_counts(v)
        page, sel = (queries.quarantine_rows(v, params) if params.get("stage") or params.get("reason")
                     else (None, None))
        return "quarantine.html", {"title": "Quarantine", "counts": counts, "page": page, "sel": sel}
    if name == "passk":
        return "passk.html", {"title": "Pass counts (pass@k filter)", "p": queries.passk(v)}
    if name == "eval":
        summary = queries.eval_summary(v)
        page, sel = queries.eval_samples(v, params) if params.get("benchmark") else (None, None)
        return "eval.html", {"title": "Eval samples", "summary": summary, "page": page, "sel": sel}
    raise queries.BadParameter(f"no page {name!r}")


def template_env():
    """The Jinja environment: templates shipped in the package, autoescaped (row text is untrusted)."""
    import jinja2

    env = jinja2.Environment(loader=jinja2.PackageLoader("vero_data.browse", "templates"),
                             autoescape=True, undefined=jinja2.ChainableUndefined, trim_blocks=True,
                             lstrip_blocks=True)
    return env
