"""Aggregation as the paper does it, lmms-eval-shaped results, published figures and run comparison.

Rule (published_scores.json "aggregation", checked against every complete column of the paper's table):
a benchmark's score is the mean of its per-sample headline metric ×100 (BLINK and VisualProbe: the unweighted
mean of their subtask means); a category is the plain mean of its benchmarks; the overall is the plain mean of
all benchmark scores (not the mean of the category means).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

from vero_data.benchmarks.registry import get_benchmark
from vero_data.benchmarks.spec import CATEGORIES, BenchmarkSpec

AGGREGATION_RULE = (
    "Benchmark = mean of the per-sample headline metric ×100 (BLINK, VisualProbe: unweighted mean of their "
    "subtask means). Category = plain mean of its benchmarks. Overall = plain mean of all benchmark scores "
    "(the paper's 'Overall Avg' over 30 benchmarks, not the mean of the six category means)."
)


def _mean(xs: Iterable[float]) -> float | None:
    xs = list(xs)
    return sum(xs) / len(xs) if xs else None


def benchmark_score(spec: BenchmarkSpec, samples: list[dict]) -> dict[str, Any]:
    """Score of one benchmark from its sample records (``score`` None = not scored, e.g. no judge)."""
    scored = [s for s in samples if s.get("score") is not None]
    out: dict[str, Any] = {"n": len(samples), "n_scored": len(scored)}
    if spec.aggregation == "subtask_mean":
        by: dict[str, list[float]] = defaultdict(list)
        for s in scored:
            by[s.get("sub_task") or spec.name].append(float(s["score"]))
        subs = {k: 100 * sum(v) / len(v) for k, v in sorted(by.items())}
        out["subtasks"] = subs
        out["score"] = _mean(subs.values())
    else:
        m = _mean(float(s["score"]) for s in scored)
        out["score"] = None if m is None else 100 * m
    extra: dict[str, list[float]] = defaultdict(list)
    for s in scored:
        for k, v in (s.get("metrics") or {}).items():
            if isinstance(v, int | float) and k != spec.metric:
                extra[k].append(float(v))
    out["metrics"] = {k: 100 * sum(v) / len(v) for k, v in sorted(extra.items())}
    if spec.metric == "micro_average_score":  # MM-MT-Bench: also the fork's macro (mean of per-category means)
        cats: dict[str, list[float]] = defaultdict(list)
        for s in scored:
            cats[str(s.get("category") or s.get("sub_task"))].append(float(s["score"]))
        out["metrics"]["macro_average_score"] = _mean(100 * sum(v) / len(v) for v in cats.values())
    return out


def summarize(per_benchmark: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Category means and the overall mean over benchmarks that have a score."""
    cats: dict[str, list[float]] = defaultdict(list)
    allv = []
    for name, r in per_benchmark.items():
        if r.get("score") is None:
            continue
        cats[get_benchmark(name).category].append(r["score"])
        allv.append(r["score"])
    order = [c for c in CATEGORIES if c in cats] + sorted(c for c in cats if c not in CATEGORIES)
    return {"categories": {c: _mean(cats[c]) for c in order}, "overall": _mean(allv), "n_benchmarks": len(allv)}


# -------------------------------------------------------------------------------------------------- published
@lru_cache(maxsize=1)
def published_table() -> dict[str, Any]:
    return json.loads((Path(__file__).parent / "published_scores.json").read_text())


def match_published(model: str) -> str | None:
    """The published model column matching a hub id or path (``Qwen/Qwen3-VL-8B-Instruct`` → its column)."""
    models = published_table()["models"]
    tail = str(model).rstrip("/").split("/")[-1].lower()
    for name, m in models.items():
        if tail in (name.lower(), str(m.get("page_column_label", "")).lower()):
            return name
    return None


def published_scores(model_name: str) -> dict[str, Any]:
    """``{"benchmarks": {task: score}, "categories", "overall", "official": [task…]}`` of a published column.

    ``official`` lists the benchmarks whose published figure the authors copied from the model's official report
    (no dagger in the paper) rather than ran through VeroEval.
    """
    m = published_table()["models"][model_name]
    from vero_data.benchmarks.registry import benchmark_names

    by_display = {get_benchmark(n).display_name: n for n in benchmark_names()}
    bench = {by_display[k]: v for k, v in m.items() if k in by_display and isinstance(v, int | float)}
    dagger = set(m.get("evaluated_by_authors_dagger") or [])
    is_vero = model_name.startswith("Vero-")
    official = [] if is_vero or "derived" in m else [by_display[k] for k in by_display if k in m and k not in dagger]
    cats = {k: v for k, v in (m.get("categories") or {}).items() if isinstance(v, int | float)}
    overall = m.get("overall") if isinstance(m.get("overall"), int | float) else None
    return {"model": model_name, "benchmarks": bench, "categories": cats, "overall": overall,
            "official": sorted(official), "base_model": m.get("base_model")}


# ----------------------------------------------------------------------------------------------- lmms shape
def results_json(per_benchmark: dict[str, dict[str, Any]], config: dict[str, Any],
                 published: dict[str, Any] | None = None) -> dict[str, Any]:
    """A results document shaped like lmms-eval's (``results``/``groups``/``configs``/``versions``/``n-samples``)
    plus a ``veroeval`` block with categories, overall, the published column and the aggregation rule."""
    results, groups, configs, versions, nsamp = {}, {}, {}, {}, {}
    for name, r in per_benchmark.items():
        spec = get_benchmark(name)
        entry = {"alias": spec.display_name, f"{spec.metric},none": None if r["score"] is None else r["score"] / 100}
        for k, v in r.get("metrics", {}).items():
            entry[f"{k},none"] = v / 100
        results[name] = entry
        for sub, v in (r.get("subtasks") or {}).items():
            if sub != name:
                results[sub] = {"alias": f" - {sub}", f"{spec.metric},none": v / 100}
        if spec.subtasks:
            groups[name] = {"alias": spec.display_name, f"{spec.metric},none": entry[f"{spec.metric},none"]}
        configs[name] = spec.model_dump(mode="json")
        versions[name] = spec.version
        nsamp[name] = {"original": r["n"], "effective": r["n_scored"]}
    summary = summarize(per_benchmark)
    return {
        "results": results, "groups": groups, "configs": configs, "versions": versions, "n-samples": nsamp,
        "config": config,
        "veroeval": {"benchmarks": {k: v["score"] for k, v in per_benchmark.items()}, **summary,
                     "detail": per_benchmark, "published": published, "aggregation_rule": AGGREGATION_RULE},
    }


def load_run(path: str | Path) -> dict[str, Any]:
    """A run's results.json (``path`` may be the run directory)."""
    p = Path(path)
    if p.is_dir():
        p = p / "results.json"
    from vero_data.errors import ConfigError

    if not p.exists():
        raise ConfigError(f"no results.json at {p}")
    try:
        res = json.loads(p.read_text())
    except (UnicodeDecodeError, ValueError) as e:
        raise ConfigError(f"{p}: not JSON ({e}); expected the results.json of a `vero eval` run") from e
    except OSError as e:
        raise ConfigError(f"{p}: cannot read ({e.strerror or e})") from e
    v = res.get("veroeval") if isinstance(res, dict) else None
    blocks = ("benchmarks", "categories")
    if not isinstance(v, dict) or not all(isinstance(v.get(k), dict) for k in blocks):
        raise ConfigError(f"{p}: not the results.json of a `vero eval` run (no 'veroeval' block with "
                          "'benchmarks' and 'categories')")
    for k in blocks:
        for name, x in v[k].items():
            if x is not None and (isinstance(x, bool) or not isinstance(x, int | float)):
                raise ConfigError(f"{p}: veroeval.{k}.{name} is {x!r}, expected a number or null")
    for name in v["benchmarks"]:
        try:
            get_benchmark(name)
        except KeyError as e:  # RegistryError
            raise ConfigError(f"{p}: veroeval.benchmarks: {e}") from e
    overall = v.get("overall")
    if overall is not None and (isinstance(overall, bool) or not isinstance(overall, int | float)):
        raise ConfigError(f"{p}: veroeval.overall is {overall!r}, expected a number or null")
    return res


def _bench_info(res: dict[str, Any], name: str) -> dict[str, Any]:
    """What decides which samples and scoring a run's benchmark score stands on (None = not recorded)."""
    v, cfg = res["veroeval"], res.get("config") or {}
    ns = (res.get("n-samples") or {}).get(name) or {}
    n = ns.get("original") if isinstance(ns, dict) else None
    if n is None:
        n = ((v.get("detail") or {}).get(name) or {}).get("n")
    judged = get_benchmark(name).needs_judge
    return {"score": v["benchmarks"].get(name), "n": n, "limit": cfg.get("limit", "?"),
            "version": (res.get("versions") or {}).get(name),
            "judge": cfg.get("judge_model") if judged and cfg.get("judge_url") else None}


def _limit_note(info: dict[str, Any]) -> str:
    if info["limit"] == "?":  # not recorded
        return ""
    return f" (limit {info['limit'] if info['limit'] is not None else 'none'})"


def _why_apart(name: str, a: dict[str, Any], b: dict[str, Any]) -> str | None:
    """Why benchmark ``name`` of two runs cannot be compared (None when it can)."""
    va, vb = a["veroeval"]["benchmarks"], b["veroeval"]["benchmarks"]
    if name not in vb:
        return "only in A"
    if name not in va:
        return "only in B"
    x, y = _bench_info(a, name), _bench_info(b, name)
    if x["score"] is None or y["score"] is None:
        which = "A and B" if x["score"] is None and y["score"] is None else "A" if x["score"] is None else "B"
        return f"no score in {which}" + (" (LLM-judged: run with --judge-url)" if get_benchmark(name).needs_judge
                                         else "")
    if x["n"] is not None and y["n"] is not None and x["n"] != y["n"]:
        return f"{x['n']} samples in A{_limit_note(x)}, {y['n']} in B{_limit_note(y)}"
    if x["version"] is not None and y["version"] is not None and x["version"] != y["version"]:
        return f"benchmark version {x['version']} in A, {y['version']} in B"
    if x["judge"] and y["judge"] and x["judge"] != y["judge"]:
        return f"judged by {x['judge']} in A, {y['judge']} in B"
    return None


def compare(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Two runs side by side, deltas B − A, category and overall deltas over the COMMON benchmarks only.

    A benchmark counts as common when both runs scored it on the same number of samples (the same ``--limit``
    or both complete), with the same benchmark version and, if LLM-judged, the same judge model. The others are
    still listed (``delta`` None, ``note`` says why) but left out of the category and overall means, which are
    recomputed from the common benchmarks (plain means, as :func:`summarize`).

    Returns:
        ``{"rows": [{benchmark, category, a, b, delta, note}…, categories…, Overall], "common": [task…],
        "left_out": {task: reason}, "notes": [line…]}``.
    """
    va, vb = a["veroeval"], b["veroeval"]
    names = list(dict.fromkeys([*va["benchmarks"], *vb["benchmarks"]]))
    left_out = {n: why for n in names if (why := _why_apart(n, a, b)) is not None}
    common = [n for n in names if n not in left_out]
    rows = []
    for n in names:
        spec = get_benchmark(n)
        x, y = va["benchmarks"].get(n), vb["benchmarks"].get(n)
        rows.append({"benchmark": spec.display_name, "category": spec.category, "a": x, "b": y,
                     "delta": None if n in left_out else y - x, "note": left_out.get(n, "")})
    by_cat: dict[str, list[str]] = defaultdict(list)
    for n in common:
        by_cat[get_benchmark(n).category].append(n)
    seen = {get_benchmark(n).category for n in names} | set(va["categories"]) | set(vb["categories"])
    cats = [c for c in CATEGORIES if c in seen] + sorted(c for c in seen if c not in CATEGORIES)
    for c in cats:
        x, y = _mean(va["benchmarks"][n] for n in by_cat[c]), _mean(vb["benchmarks"][n] for n in by_cat[c])
        rows.append({"benchmark": f"[{c}]", "category": c, "a": x, "b": y,
                     "delta": None if x is None or y is None else y - x,
                     "note": "" if by_cat[c] else "no benchmark in common"})
    x, y = _mean(va["benchmarks"][n] for n in common), _mean(vb["benchmarks"][n] for n in common)
    rows.append({"benchmark": "Overall", "category": "", "a": x, "b": y,
                 "delta": None if x is None or y is None else y - x,
                 "note": f"{len(common)} benchmarks in common" if left_out else "", "n_benchmarks": len(common)})
    notes = []
    if left_out:
        notes.append(f"compare: category and overall deltas use only the {len(common)} benchmarks both runs scored on "
                     f"the same samples; left out ({len(left_out)}):")
        notes += [f"  {get_benchmark(n).display_name} ({n}): {why}" for n, why in left_out.items()]
    ga, gb = (a.get("config") or {}).get("generation"), (b.get("config") or {}).get("generation")
    if isinstance(ga, dict) and isinstance(gb, dict) and ga != gb:
        diff = ", ".join(f"{k} {ga.get(k)} in A, {gb.get(k)} in B" for k in dict.fromkeys([*ga, *gb])
                         if ga.get(k) != gb.get(k))
        notes.append(f"compare: the runs decoded differently ({diff}); the deltas include that")
    return {"rows": rows, "common": common, "left_out": left_out, "notes": notes}


def compare_runs(a: dict[str, Any], b: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows ``{benchmark, category, a, b, delta, note}`` for every benchmark in either run, then categories and
    overall, whose means cover only the benchmarks both runs scored alike (see :func:`compare`)."""
    return compare(a, b)["rows"]
