"""``vero data browse DIR --static OUT``: the same pages as files, for sharing without a server.

A static site cannot query, so it holds a fixed selection: the overview, the first ``gallery_pages`` gallery pages
and the first page of each category (and each pass count), the first page of duplicates (per rule) and of each
quarantine reason, the pass-count page, each benchmark's first samples, and a page per row shown (up to
``max_rows``). Links to pages not exported are left out. Images are written beside the pages (``img/``): a
thumbnail per card and the image as stored for the full view.

OUT follows the project's output-folder rules (:mod:`vero_data.outdir`): it may not lie inside DIR (the build is
read-only input) and an existing non-empty OUT is replaced only when it is a previous export.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vero_data.browse.pages import LABELS, available_pages, base_context, render_page, template_env
from vero_data.browse.store import FolderView
from vero_data.browse.thumbs import displayable, make_thumbnail
from vero_data.errors import ConfigError

COMMAND = "data browse"


@dataclass
class StaticExport:
    """What an export wrote."""

    out: Path
    pages: list[str] = field(default_factory=list)
    images: int = 0
    rows: int = 0


def _slug(s: Any) -> str:
    text = str(s)
    base = re.sub(r"[^A-Za-z0-9_-]+", "_", text)[:48].strip("_") or "x"
    return base if base == text else f"{base}-{hashlib.sha256(text.encode()).hexdigest()[:8]}"


def _key(name: str, params: dict[str, Any]) -> tuple:
    return (name, tuple(sorted((k, str(v)) for k, v in params.items() if v not in (None, "")
                               and not (k == "page" and str(v) == "1"))))


class StaticUrls:
    """Links between exported files; images and row pages are registered (and images written) as pages ask."""

    def __init__(self, view: FolderView, work: Path, files: dict[tuple, str], max_rows: int):
        self.view, self.work, self.files, self.max_rows = view, work, files, max_rows
        self.row_files: dict[str, str] = {}
        self.accept_rows = True
        self.images: dict[tuple, str | None] = {}

    def page(self, name: str, **params) -> str | None:
        return self.files.get(_key(name, params))

    def row(self, row_id: str) -> str | None:
        if row_id in self.row_files:
            return self.row_files[row_id]
        if not self.accept_rows or len(self.row_files) >= self.max_rows:
            return None
        self.row_files[row_id] = f"rows/{_slug(row_id)}.html"
        return self.row_files[row_id]

    def _img(self, row_id: str, n: int, size: int | None) -> str | None:
        key = (row_id, n, size)
        if key in self.images:
            return self.images[key]
        data = self.view.image_bytes(row_id, n)
        rel = None
        if data is not None:
            if size is None:
                body, _, ext = displayable(data)
                rel = f"img/{_slug(row_id)}-{n}.{ext}"
            else:
                body, rel = make_thumbnail(data, size), f"img/{_slug(row_id)}-{n}-t{size}.jpg"
            (self.work / rel).write_bytes(body)
        self.images[key] = rel
        return rel

    def image(self, row_id: str, n: int = 0) -> str | None:
        return self._img(row_id, n, None)

    def thumb(self, row_id: str, n: int = 0, size: int = 256) -> str | None:
        return self._img(row_id, n, size)

    def static(self, name: str) -> str:
        return f"static/{name}"


class _Relative:
    """The same links seen from a page one folder down (``rows/``)."""

    def __init__(self, inner: StaticUrls):
        self.inner = inner

    def __getattr__(self, name):
        fn = getattr(self.inner, name)

        def call(*a, **k):
            r = fn(*a, **k)
            return None if r is None else "../" + r
        return call


def _plan(view: FolderView, pages: list[str], gallery_pages: int) -> list[tuple[str, dict[str, Any], str]]:
    """(page, params, file) for every page exported."""
    from vero_data.browse import queries

    plan: list[tuple[str, dict[str, Any], str]] = []
    if "overview" in pages:
        plan.append(("overview", {}, "index.html"))
    if "gallery" in pages:
        total = view.scalar("SELECT count(*) FROM shard_rows") or 0
        for p in range(1, min(gallery_pages, max(1, -(-total // 48))) + 1):
            plan.append(("gallery", {"page": p}, "gallery.html" if p == 1 else f"gallery-{p}.html"))
        opts = queries.gallery_options(view)
        for c in opts["category"]:
            plan.append(("gallery", {"category": c}, f"gallery-category-{_slug(c)}.html"))
        for pc in opts["pass_count"]:
            plan.append(("gallery", {"pass_count": pc}, f"gallery-pass-{int(pc)}.html"))
    if "duplicates" in pages:
        plan.append(("duplicates", {}, "duplicates.html"))
        _, extra = queries.duplicates(view, {"per_page": 24})
        for r in extra["rules"]:
            plan.append(("duplicates", {"rule": r["rule"]}, f"duplicates-{_slug(r['rule'])}.html"))
    if "quarantine" in pages:
        plan.append(("quarantine", {}, "quarantine.html"))
        for c in queries.quarantine_counts(view):
            plan.append(("quarantine", {"stage": c["stage"], "reason": c["reason"]},
                         f"quarantine-{_slug(c['stage'])}-{_slug(c['reason'])}.html"))
    if "passk" in pages:
        plan.append(("passk", {}, "passk.html"))
    if "eval" in pages:
        plan.append(("eval", {}, "eval.html" if "overview" in pages else "index.html"))
        for b in view.eval_samples:
            plan.append(("eval", {"benchmark": b}, f"eval-{_slug(b)}.html"))
    return plan


def check_static_out(folder: Path, out: Path) -> bool:
    """Refuse an OUT inside the folder browsed or an existing folder that is not a previous export; True when OUT
    is a previous export (replaced when the new one is complete)."""
    from vero_data.outdir import check_out_path, marker_of

    src, dst = folder.resolve(), out.resolve()
    if dst == src or dst.is_relative_to(src):
        raise ConfigError(f"--static {out} lies inside {folder}: the folder browsed is read-only input; "
                          "write the site elsewhere")
    check_out_path(out, inputs=[folder])
    if out.is_dir() and any(out.iterdir()):
        mk = marker_of(out)
        if mk is None or mk.get("command") != COMMAND:
            raise ConfigError(f"--static {out} is not empty and is not a previous `vero data browse --static` "
                              "export; pass a new or empty folder")
        return True
    return False


def export_static(folder: str | Path, out: str | Path, *, gallery_pages: int = 4, max_rows: int = 400
                  ) -> StaticExport:
    """Write the static site of ``folder`` into ``out`` (see the module docstring).

    Args:
        folder: a build, filter or eval output.
        out: the site folder (new, empty, or a previous export).
        gallery_pages: how many unfiltered gallery pages (48 rows each) to export.
        max_rows: at most this many row pages (with their full-size images).
    """
    from vero_data.outdir import claim_output

    folder, out = Path(folder), Path(out)
    view = FolderView(folder)
    try:
        previous = check_static_out(folder, out)
        claim = claim_output(out, COMMAND, inputs=[folder], overwrite=previous)
        with claim.guard():
            work = claim.work
            (work / "img").mkdir(parents=True, exist_ok=True)
            (work / "rows").mkdir(exist_ok=True)
            shutil.copytree(Path(__file__).with_name("static"), work / "static", dirs_exist_ok=True)
            pages = available_pages(view)
            plan = _plan(view, pages, gallery_pages)
            files = {_key(n, p): f for n, p, f in plan}
            urls = StaticUrls(view, work, files, max_rows)
            env = template_env()
            result = StaticExport(out=claim.out)
            for name, params, fname in plan:
                template, ctx = render_page(view, name, params)
                if name == "gallery":
                    ctx["static_links"] = _gallery_links(urls, files, params)
                title = ctx["title"] + (f" · {', '.join(f'{k} {v}' for k, v in params.items())}" if params else "")
                ctx = {**base_context(view, urls, name, title, pages, static=True), **ctx, "title": title}
                (work / fname).write_text(env.get_template(template).render(ctx), encoding="utf-8")
                result.pages.append(fname)
            urls.accept_rows = False  # row pages link only to rows already exported
            rel = _Relative(urls)
            from vero_data.browse import queries

            for rid, fname in list(urls.row_files.items()):
                d = queries.row_detail(view, rid)
                if d is None:
                    continue
                ctx = {**base_context(view, rel, "gallery", f"Row {rid}", pages, static=True), "d": d}
                (work / fname).write_text(env.get_template("row.html").render(ctx), encoding="utf-8")
                result.pages.append(fname)
                result.rows += 1
            result.images = sum(1 for v in urls.images.values() if v)
            claim.commit()
    finally:
        view.close()
    return result


def _gallery_links(urls: StaticUrls, files: dict[tuple, str], params: dict[str, Any]) -> list[dict[str, Any]]:
    """The static gallery's stand-in for the filter form: links to the exported gallery selections."""
    links = [{"label": "all", "href": files.get(_key("gallery", {})), "current": not params or list(params) == ["page"]}]
    for (name, kv), f in files.items():
        if name != "gallery" or not kv or kv[0][0] == "page":
            continue
        label = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in kv)
        links.append({"label": label, "href": f, "current": _key("gallery", params) == (name, kv)})
    return [lk for lk in links if lk["href"]]


__all__ = ["StaticExport", "export_static", "check_static_out", "LABELS"]
