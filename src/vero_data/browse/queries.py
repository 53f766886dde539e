"""The queries behind each page. SQL texts are fixed; user input only ever arrives as bound parameters, and a
column a user may filter or sort by is looked up in a whitelist (a name not in it is refused, never spliced in)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from vero_data.browse.store import FolderView

PAGE_SIZES = (24, 48, 96)
# Gallery filters: URL parameter → shard_rows column (the only names that reach SQL text).
GALLERY_FILTERS = {"category": "category", "source": "data_source", "reward_type": "reward_type", "split": "split",
                   "license": "license"}
# Gallery orders: URL value → ORDER BY text.
GALLERY_ORDERS = {"shard": "n", "answer_len": "answer_len DESC, n", "pass_count": "pass_count NULLS LAST, n"}
PIXEL_BINS = [0, 50_000, 100_000, 200_000, 500_000, 1_000_000, 2_000_000, 4_000_000]  # as report.PIXEL_BINS
ANSWER_BINS = [0, 2, 5, 10, 20, 50, 100, 200, 500, 1000]
RULES = {  # dedup rule → what merged the rows, and what its score measures
    "exact": "same pixels, question and answer",
    "phash": "image perceptual-hash distance (lower = closer) with the same question and answer",
    "near_question": "question embedding cosine similarity with the same image and answer",
    "same_id": "same content: the row id hashes image, question and answer (the copy is not stored apart)",
}


class BadParameter(ValueError):
    """A request parameter outside what a page accepts (answered with 400 and the message)."""


@dataclass
class Page:
    """One page of a listing: its rows, the total count and where it sits."""

    rows: list[dict[str, Any]]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _page_args(page: Any, per_page: Any = 48) -> tuple[int, int]:
    try:
        p, pp = int(page or 1), int(per_page or 48)
    except (TypeError, ValueError):
        raise BadParameter("page and per_page must be whole numbers") from None
    if p < 1 or p > 10**7:
        raise BadParameter("page must be between 1 and 10,000,000")
    if pp not in PAGE_SIZES:
        raise BadParameter(f"per_page must be one of {', '.join(map(str, PAGE_SIZES))}")
    return p, pp


def _bins(values: list[tuple[int | None, int]], edges: list[int], fmt=lambda v: f"{v:,}") -> list[dict[str, Any]]:
    counts = [0] * len(edges)
    for v, n in values:
        if v is None:
            continue
        i = max(j for j, e in enumerate(edges) if v >= e) if v >= edges[0] else 0
        counts[i] += n
    out = []
    for i, lo in enumerate(edges):
        label = f"{fmt(lo)}–{fmt(edges[i + 1] - 1)}" if i + 1 < len(edges) else f"≥ {fmt(lo)}"
        out.append({"label": label, "n": counts[i]})
    return out


# ----------------------------------------------------------------------------------------------- overview
def overview(v: FolderView) -> dict[str, Any]:
    """Counts per category and source against targets, size and length distributions, reward types, licences."""
    return v.memo("overview", lambda: _overview(v))


def _overview(v: FolderView) -> dict[str, Any]:
    total = v.scalar("SELECT count(*) FROM shard_rows") or 0
    splits = v.query("SELECT split, count(*) AS n FROM shard_rows GROUP BY ALL ORDER BY n DESC")
    quotas = {c["category"]: c.get("quota") for c in v.report.get("categories", []) if isinstance(c, dict)}
    targets: dict[str, int] = {}
    sources: list[dict[str, Any]] = []
    if "sources" in v.tables:
        src = v.query("SELECT manifest, data_source, category, license, target, source_kind, status, reason "
                      "FROM cat.sources ORDER BY category, manifest")
        got = {r["manifest"]: r["n"] for r in v.query(
            "SELECT manifest, count(*) AS n FROM shard_rows GROUP BY ALL")}
        for s in src:
            s["rows"] = got.pop(s["manifest"], 0)
            if s["target"] is not None:
                targets[s["category"]] = targets.get(s["category"], 0) + int(s["target"])
            sources.append(s)
        sources += [{"manifest": m, "data_source": None, "category": None, "license": None, "target": None,
                     "rows": n} for m, n in got.items()]
    else:
        sources = v.query("SELECT manifest, any_value(data_source) AS data_source, any_value(category) AS category, "
                          "any_value(license) AS license, NULL AS target, count(*) AS rows FROM shard_rows "
                          "GROUP BY manifest ORDER BY category, manifest")
    rep = {s["manifest"]: s for s in v.report.get("sources", []) if isinstance(s, dict) and "manifest" in s}
    for s in sources:  # read / not selected / dropped by reason, from the build report when there is one
        r = rep.get(s["manifest"], {})
        s["read"], s["not_selected"] = r.get("read"), r.get("not_selected")
        s["dropped"] = r.get("dropped") or {}
        s["unavailable"] = r.get("unavailable")
    cats = v.query("SELECT category, count(*) AS n FROM shard_rows WHERE split = 'train' GROUP BY ALL ORDER BY category")
    seen = {c["category"] for c in cats}
    cats += [{"category": c, "n": 0} for c in quotas if c not in seen]
    for c in cats:
        c["quota"] = quotas.get(c["category"])
        c["target"] = targets.get(c["category"])
    if "samples" in v.tables:
        px = v.query("SELECT s.pixels AS v, count(*) AS n FROM shard_rows r JOIN cat.samples s USING (id) "
                     "GROUP BY ALL")
        sides = v.query("SELECT greatest(list_max(s.width), list_max(s.height)) AS v, count(*) AS n "
                        "FROM shard_rows r JOIN cat.samples s USING (id) GROUP BY ALL")
    else:
        px, sides = [], []
    lens = v.query("SELECT answer_len AS v, count(*) AS n FROM shard_rows GROUP BY ALL")
    return {
        "total": total, "splits": splits, "categories": cats, "sources": sources,
        "pixels": _bins([(r["v"], r["n"]) for r in px], PIXEL_BINS) if px else [],
        "longest_side": _bins([(r["v"], r["n"]) for r in sides], [0, 64, 128, 256, 512, 768, 1024, 2048]) if sides
        else [],
        "answer_len": _bins([(r["v"], r["n"]) for r in lens], ANSWER_BINS),
        "reward_types": v.query("SELECT reward_type AS label, count(*) AS n FROM shard_rows GROUP BY ALL ORDER BY n DESC"),
        "licenses": v.query("SELECT license AS label, count(*) AS n FROM shard_rows GROUP BY ALL ORDER BY n DESC"),
        "quarantined": v.scalar("SELECT count(*) FROM quarantine") or 0,
        "duplicates": v.scalar("SELECT count(*) FROM quarantine WHERE stage = 'dedup'") or 0,
        "report": {k: v.report.get(k) for k in ("recipe", "recipe_version", "seed", "read", "reconciled",
                                                 "not_selected")},
    }


# ----------------------------------------------------------------------------------------------- gallery
def gallery_options(v: FolderView) -> dict[str, list]:
    """The values each gallery filter offers (distinct values in the shards)."""
    return v.memo("gallery_options", lambda: _gallery_options(v))


def _gallery_options(v: FolderView) -> dict[str, list]:
    opts = {}
    for param, col in GALLERY_FILTERS.items():
        opts[param] = [r["v"] for r in v.query(
            f"SELECT DISTINCT {col} AS v FROM shard_rows WHERE {col} IS NOT NULL ORDER BY v")]  # col: whitelist
    opts["pass_count"] = [r["v"] for r in v.query(
        "SELECT DISTINCT pass_count AS v FROM shard_rows WHERE pass_count IS NOT NULL ORDER BY v")]
    opts["status"] = [r["v"] for r in v.query(
        "SELECT DISTINCT status AS v FROM cat.samples WHERE status IS NOT NULL ORDER BY v")] \
        if "samples" in v.tables else []
    return opts


# Rows that never reached a shard (status not_selected, duplicate, source_filtered, passk_dropped), from the catalog:
# same columns as shard_rows; their text comes from the catalog, their images from the build's ingest parts.
_CATALOG_ROWS = ("(SELECT s.id, s.data_source, s.category, s.reward_type, s.split, s.license, s.manifest, "
                 "{pass_count} AS pass_count, {k} AS k, s.id AS n, length(s.answer) AS answer_len, s.status, "
                 "s.question, s.answer FROM cat.samples s {join}) AS rows")


def gallery(v: FolderView, params: dict[str, Any]) -> tuple[Page, dict[str, Any]]:
    """One page of exported rows matching the filters in ``params`` (URL parameters), newest filter first."""
    page, per_page = _page_args(params.get("page"), params.get("per_page", 48))
    where, args, applied = [], [], {}
    for param, col in GALLERY_FILTERS.items():
        val = params.get(param)
        if val:
            where.append(f"{col} = ?")  # col comes from GALLERY_FILTERS, the value is bound
            args.append(str(val))
            applied[param] = str(val)
    pc = params.get("pass_count")
    if pc not in (None, ""):
        if pc == "none":
            where.append("pass_count IS NULL")
        else:
            try:
                where.append("pass_count = ?")
                args.append(int(pc))
            except ValueError:
                raise BadParameter("pass_count must be a whole number or 'none'") from None
        applied["pass_count"] = str(pc)
    order = params.get("order") or "shard"
    if order not in GALLERY_ORDERS:
        raise BadParameter(f"order must be one of {', '.join(GALLERY_ORDERS)}")
    if order != "shard":
        applied["order"] = order
    status = params.get("status") or "exported"
    if status == "exported":
        source = "shard_rows"
    else:
        if status not in gallery_options(v)["status"]:
            raise BadParameter(f"status must be one of {', '.join(gallery_options(v)['status']) or 'exported'}")
        applied["status"] = status
        where.insert(0, "status = ?")
        args.insert(0, status)
        diff = "difficulty" in v.tables  # after a filter, dropped rows keep their pass counts
        source = _CATALOG_ROWS.format(pass_count="d.pass_count" if diff else "NULL::INTEGER",
                                      k="d.k" if diff else "NULL::INTEGER",
                                      join="LEFT JOIN cat.difficulty d USING (id)" if diff else "")
    cond = (" WHERE " + " AND ".join(where)) if where else ""
    total = v.scalar(f"SELECT count(*) FROM {source}{cond}", args) or 0  # source: one of two fixed texts
    extra = ", question, answer" if status != "exported" else ""
    rows = v.query(f"SELECT id, category, data_source, reward_type, split, pass_count, k{extra} FROM {source}{cond} "
                   f"ORDER BY {GALLERY_ORDERS[order]} LIMIT ? OFFSET ?", [*args, per_page, (page - 1) * per_page])
    if status == "exported":
        full = v.rows([r["id"] for r in rows])
        for r in rows:
            f = full.get(r["id"], {})
            r["question"], r["answer"], r["stored"] = f.get("question", ""), f.get("answer", ""), True
    else:
        for r in rows:
            r["stored"] = v.locate(r["id"]) is not None
    return Page(rows, total, page, per_page), applied


def row_detail(v: FolderView, row_id: str) -> dict[str, Any] | None:
    """Everything known about one row: the row itself, its catalog entry, quarantine records and dedup links."""
    row = v.row(row_id, images=True)
    meta = v.query("SELECT * FROM cat.samples WHERE id = ? LIMIT 1", [row_id]) if "samples" in v.tables else []
    q = v.query("SELECT * FROM quarantine WHERE id = ?", [row_id])
    if row is None and not meta and not q:
        return None
    dups = v.query("SELECT id, dup_of, rule, score FROM cat.dedup WHERE id = ? OR dup_of = ? ORDER BY score",
                   [row_id, row_id]) if "dedup" in v.tables else []
    diff = v.query("SELECT * FROM cat.difficulty WHERE id = ?", [row_id]) if "difficulty" in v.tables else []
    # `vero data filter --save-completions`: the k sampled responses with their scores
    comps = v.query("SELECT * FROM cat.completions WHERE id = ? ORDER BY ALL", [row_id]) \
        if "completions" in v.tables else []
    n_images = len(row.get("images") or []) if row else 0
    if row:
        row.pop("images", None)
    return {"id": row_id, "row": row, "meta": meta[0] if meta else None, "quarantine": q, "dedup": dups,
            "difficulty": diff[0] if diff else None, "n_images": n_images, "completions": comps,
            "extra_pretty": pretty(row.get("extra") if row else None),
            "curation_pretty": pretty(_json_or_text(row.get("curation")) if row else None),
            "answer_pretty": pretty_answer(row.get("answer") if row else None)}


def _json_or_text(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def pretty(value: Any) -> str:
    """JSON-ish values indented for reading; never cut."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)


def pretty_answer(answer: str | None) -> str:
    """An answer that is JSON (instruction-following constraints, web actions) indented; anything else as is."""
    if not answer:
        return answer or ""
    s = answer.strip()
    if s[:1] in "[{":
        try:
            return json.dumps(json.loads(s), indent=2, ensure_ascii=False)
        except ValueError:
            pass
    return answer


# ----------------------------------------------------------------------------------------------- duplicates
def duplicates(v: FolderView, params: dict[str, Any]) -> tuple[Page, dict[str, Any]]:
    """Dedup groups (one kept row, its removed copies with rule and score), paged by kept row."""
    page, per_page = _page_args(params.get("page"), params.get("per_page", 24))
    rule = params.get("rule") or None
    parts = []
    if "dedup" in v.tables:
        parts.append("SELECT id, dup_of, rule, score FROM cat.dedup")
    if "dup_of" in v.quarantine_columns:  # copies with the kept row's own id never reach the dedup table
        parts.append("SELECT id, dup_of, 'same_id' AS rule, NULL::DOUBLE AS score FROM quarantine "
                     "WHERE stage = 'dedup' AND dup_of = id")
    if not parts:
        return Page([], 0, page, per_page), {"rules": [], "rule": rule}
    base = "WITH d AS (" + " UNION ALL ".join(parts) + ") "
    rules = v.query(base + "SELECT rule, count(*) AS n FROM d GROUP BY ALL ORDER BY n DESC")
    cond, args = ("WHERE rule = ?", [rule]) if rule else ("", [])
    total = v.scalar(base + f"SELECT count(DISTINCT dup_of) FROM d {cond}", args) or 0
    kept = v.query(base + f"SELECT dup_of, count(*) AS n, min(score) AS best FROM d {cond} GROUP BY dup_of "
                   "ORDER BY n DESC, dup_of LIMIT ? OFFSET ?", [*args, per_page, (page - 1) * per_page])
    groups = []
    for k in kept:
        removed = v.query(base + f"SELECT id, rule, score FROM d WHERE dup_of = ? {'AND rule = ?' if rule else ''} "
                          "ORDER BY score NULLS FIRST, id", [k["dup_of"], *args])
        detail = {r["id"]: r for r in v.query(
            "SELECT id, reason, detail FROM quarantine WHERE stage = 'dedup' AND dup_of = ?", [k["dup_of"]])}
        for r in removed:
            r["reason"] = (detail.get(r["id"]) or {}).get("reason")
            r["detail"] = (detail.get(r["id"]) or {}).get("detail")
            r["explains"] = RULES.get(r["rule"], r["rule"])
        groups.append({"kept": k["dup_of"], "removed": removed})
    ids = [g["kept"] for g in groups] + [r["id"] for g in groups for r in g["removed"]]
    full = v.rows(ids)
    status = {r["id"]: r["status"] for r in v.query(
        "SELECT id, status FROM cat.samples WHERE id IN (SELECT unnest(?))", [ids])} if "samples" in v.tables else {}
    for g in groups:
        g["kept_row"] = _card(full.get(g["kept"]), g["kept"], status.get(g["kept"]))
        for r in g["removed"]:
            r["row"] = _card(full.get(r["id"]), r["id"], status.get(r["id"]))
    return Page(groups, total, page, per_page), {"rules": rules, "rule": rule}


def _card(row: dict | None, row_id: str, status: str | None) -> dict[str, Any]:
    return {"id": row_id, "available": row is not None, "question": (row or {}).get("question", ""),
            "answer": (row or {}).get("answer", ""), "data_source": (row or {}).get("data_source"),
            "exported": bool(row and row.get("exported")), "status": status}


# ----------------------------------------------------------------------------------------------- quarantine
def quarantine_counts(v: FolderView) -> list[dict[str, Any]]:
    return v.query("SELECT stage, reason, count(*) AS n FROM quarantine GROUP BY ALL ORDER BY stage, n DESC, reason")


def quarantine_rows(v: FolderView, params: dict[str, Any]) -> tuple[Page, dict[str, Any]]:
    """One page of quarantined rows of a stage and reason, with their detail and (when stored) image."""
    page, per_page = _page_args(params.get("page"), params.get("per_page", 24))
    stage, reason = params.get("stage") or "", params.get("reason") or ""
    cols = [c for c in ("id", "manifest", "upstream_index", "upstream_id", "field", "detail", "dup_of", "excerpt")
            if c in v.quarantine_columns]
    total = v.scalar("SELECT count(*) FROM quarantine WHERE stage = ? AND reason = ?", [stage, reason]) or 0
    rows = v.query(f"SELECT {', '.join(cols)} FROM quarantine WHERE stage = ? AND reason = ? "  # cols: fixed list
                   "ORDER BY manifest, id LIMIT ? OFFSET ?", [stage, reason, per_page, (page - 1) * per_page])
    ids = [r["id"] for r in rows if r.get("id")]
    kept = [r["dup_of"] for r in rows if r.get("dup_of") and r.get("dup_of") != r.get("id")]
    full = v.rows(ids + kept)
    for r in rows:
        r.setdefault("excerpt", None)
        r["excerpt_pretty"] = pretty_excerpt(r.get("excerpt"))
        r["has_image"] = r.get("id") in full
        r["kept_has_image"] = bool(r.get("dup_of")) and r.get("dup_of") != r.get("id") and r["dup_of"] in full
    return Page(rows, total, page, per_page), {"stage": stage, "reason": reason}


def pretty_excerpt(ex: str | None) -> str:
    if not ex:
        return ""
    try:
        return json.dumps(json.loads(ex), indent=2, ensure_ascii=False)
    except ValueError:
        return ex


# ----------------------------------------------------------------------------------------------- pass@k
def passk(v: FolderView) -> dict[str, Any] | None:
    """Pass-count histograms per category and per source (from the `difficulty` table a filter writes, else from
    the shards' pass_count column), and a few example rows at each pass count."""
    if "difficulty" in v.tables:
        src, kcol = "cat.difficulty", "k"
    elif v.scalar("SELECT count(*) FROM shard_rows WHERE pass_count IS NOT NULL"):
        src, kcol = "shard_rows", "k"
    else:
        return None
    k = v.scalar(f"SELECT max({kcol}) FROM {src}") or 0  # src/kcol: fixed above
    out: dict[str, Any] = {"k": int(k), "from": "difficulty table" if src != "shard_rows" else "shard pass_count"}
    for key, col in (("by_category", "category"), ("by_source", "data_source")):
        cells = v.query(f"SELECT {col} AS name, pass_count, count(*) AS n FROM {src} GROUP BY ALL")
        table: dict[str, dict] = {}
        for c in cells:
            t = table.setdefault(c["name"], {"name": c["name"], "counts": {}, "total": 0})
            t["counts"]["none" if c["pass_count"] is None else int(c["pass_count"])] = c["n"]
            t["total"] += c["n"]
        out[key] = sorted(table.values(), key=lambda t: str(t["name"]))
    hist = v.query(f"SELECT pass_count, count(*) AS n FROM {src} GROUP BY ALL ORDER BY pass_count NULLS LAST")
    out["histogram"] = [{"label": "not sampled" if h["pass_count"] is None else str(h["pass_count"]), "n": h["n"],
                         "pass_count": h["pass_count"]} for h in hist]
    ex = v.query("SELECT pass_count, id FROM (SELECT pass_count, id, row_number() OVER (PARTITION BY pass_count "
                 "ORDER BY n) AS i FROM shard_rows WHERE pass_count IS NOT NULL) WHERE i <= 6 ORDER BY pass_count, i")
    examples: dict[int, list[str]] = {}
    for e in ex:
        examples.setdefault(int(e["pass_count"]), []).append(e["id"])
    out["examples"] = examples
    if "difficulty" in v.tables:
        out["dropped"] = v.query("SELECT drop_reason, count(*) AS n FROM cat.difficulty WHERE NOT kept "
                                 "GROUP BY ALL ORDER BY n DESC")
    return out


# ----------------------------------------------------------------------------------------------- eval
def eval_summary(v: FolderView) -> list[dict[str, Any]]:
    """Per benchmark: score from results.json, samples on disk, scored samples and their mean."""
    scores = (v.eval_results.get("veroeval") or {}).get("benchmarks") or {}
    names = sorted(set(scores) | set(v.eval_samples))
    out = []
    for name in names:
        recs = v.eval_records(name)
        scored = [r["score"] for r in recs if isinstance(r.get("score"), int | float)]
        out.append({"benchmark": name, "score": scores.get(name), "samples": len(recs), "scored": len(scored),
                    "mean": 100 * sum(scored) / len(scored) if scored else None})
    return out


def eval_samples(v: FolderView, params: dict[str, Any]) -> tuple[Page, dict[str, Any]]:
    """One page of one benchmark's samples: prompt, response, extracted answer, target and score."""
    page, per_page = _page_args(params.get("page"), params.get("per_page", 24))
    name = params.get("benchmark") or ""
    if name not in v.eval_samples:
        raise BadParameter(f"no samples for benchmark {name!r}")
    recs = v.eval_records(name)
    only = params.get("score")
    if only == "wrong":
        recs = [r for r in recs if isinstance(r.get("score"), int | float) and r["score"] < 1]
    elif only == "right":
        recs = [r for r in recs if isinstance(r.get("score"), int | float) and r["score"] >= 1]
    elif only:
        raise BadParameter("score must be 'right' or 'wrong'")
    rows = []
    for r in recs[(page - 1) * per_page: page * per_page]:
        prompt = r.get("prompt")
        rows.append({"doc_id": r.get("doc_id"), "sub_task": r.get("sub_task"), "category": r.get("category"),
                     "prompt": prompt if isinstance(prompt, str) else pretty(prompt),
                     "response": r.get("response") or "", "extracted": pretty(r.get("extracted")),
                     "target": pretty(r.get("target")), "score": r.get("score"),
                     "metrics": pretty(r.get("metrics")) if r.get("metrics") else ""})
    return Page(rows, len(recs), page, per_page), {"benchmark": name, "score": only or ""}
