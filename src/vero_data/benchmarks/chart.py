"""ChartQA, ChartQA-Pro, InfoVQA and EvoChart scorers (eval_scoring.md §1–4)."""

from __future__ import annotations

import ast
import re

from vero_data.benchmarks.extract import final_answer, strip_reasoning
from vero_data.benchmarks.scoring import (
    ScoreContext,
    anls,
    chart_float,
    mv_number,
    relaxed_correctness,
    relaxed_numeric,
    scorer,
)


@scorer("chartqa")
def score_chartqa(doc: dict, response: str, ctx: ScoreContext) -> dict[str, float]:
    """§1: relaxed accuracy on the FAE answer; the split key follows ``type``."""
    ok = float(relaxed_correctness(final_answer(response), str(doc.get("answer", ""))))
    split = "relaxed_human_split" if doc.get("type") == "human_test" else "relaxed_augmented_split"
    return {"relaxed_overall": ok, split: ok}


# ------------------------------------------------------------------------------------------------ ChartQA-Pro
_BARE_ITEM = re.compile(r"(?<=[\[,])\s*([^,\[\]'\"]+?)\s*(?=[,\]])")


def _as_list(value) -> list[str]:
    if isinstance(value, list | tuple):
        items = list(value)
    else:
        s = str(value).strip()
        items = [s]
        if s.startswith("[") and s.endswith("]"):
            try:
                got = ast.literal_eval(s)
                items = list(got) if isinstance(got, list | tuple) else [got]
            except (ValueError, SyntaxError):
                try:  # lenient: quote bare items so "[China, India]" parses
                    got = ast.literal_eval(_BARE_ITEM.sub(lambda m: repr(m.group(1)), s))
                    items = list(got) if isinstance(got, list | tuple) else [got]
                except (ValueError, SyntaxError):
                    items = [s]
    return [str(x).strip().strip(".") for x in items]


def _flags(year, qtype: str, n: int) -> list[str]:
    flat: list[str] = []
    stack = [year] if not isinstance(year, list | tuple) else list(year)
    for y in stack:
        if isinstance(y, list | tuple):
            flat.extend(str(z).strip().upper() for z in y)
        elif y is not None:
            flat.append(str(y).strip().upper())
    if qtype == "Conversational" and flat:
        flat = flat[-1:]
    if not flat:
        return ["NO"] * n
    return [flat[i % len(flat)] for i in range(n)]


def _pro_slot(p: str, t: str, exact: bool) -> float:
    if exact:
        return float(p.strip().lower() == t.strip().lower())
    if chart_float(p) is not None and chart_float(t) is not None:
        return float(bool(relaxed_numeric(p, t, 0.05, unit_interval=False, zero_exact=True)))
    a = " ".join(p.lower().split())
    b = " ".join(t.lower().split())
    return anls(a, [b], 0.5)


@scorer("chartqa_pro")
def score_chartqa_pro(doc: dict, response: str, ctx: ScoreContext) -> dict[str, float]:
    """§2: per-slot exact / relaxed / ANLS match over list answers; the sample value is the slot mean."""
    ans = doc.get("Answer")
    target_raw = ans[-1] if isinstance(ans, list | tuple) and ans else ("" if ans is None else ans)
    target = _as_list(target_raw)
    pred = _as_list(final_answer(response))
    qtype = str(doc.get("Question Type", "") or "")
    flags = _flags(doc.get("Year"), qtype, len(target))
    n = max(len(target), len(pred))
    vals = []
    for i in range(n):
        if i >= len(target) or i >= len(pred):
            vals.append(0.0)
            continue
        exact = flags[i] == "YES" or qtype in ("Fact Checking", "Multi Choice")
        vals.append(_pro_slot(pred[i], target[i], exact))
    return {"relaxed_overall": sum(vals) / n if n else 0.0}


# ---------------------------------------------------------------------------------------------------- InfoVQA
_MONEY = re.compile(r"[$€£%]")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d)")
_PLAIN_NUM = re.compile(r"^[+-]?\d+(?:\.\d+)?$")


def format_norm(s: str) -> str:
    """InfoVQA "format-only" normalisation (case, spaces, currency, thousands commas, ``&``/``and``, ``5.0``)."""
    s = " ".join(str(s).lower().split())
    s = _MONEY.sub("", s)
    s = _THOUSANDS.sub("", s)
    s = s.replace(" & ", ",").replace(" and ", ",")
    s = re.sub(r"\s*,\s*", ",", s).strip()
    parts = []
    for tok in s.split(","):
        tok = tok.strip()
        if tok.startswith("+") and _PLAIN_NUM.match(tok):
            tok = tok[1:]
        if _PLAIN_NUM.match(tok):
            f = float(tok)
            tok = str(int(f)) if f == int(f) else repr(f)
        parts.append(tok)
    return ",".join(parts)


def _drop_pct(s: str) -> str:
    s = str(s).strip()
    return s[:-1] if s.endswith("%") else s


@scorer("infovqa")
def score_infovqa(doc: dict, response: str, ctx: ScoreContext) -> dict[str, float]:
    """§3: max(ANLS of the raw answer text, ANLS of the FAE answer with format-only equivalence)."""
    refs = [str(a) for a in (doc.get("answers") or [])]
    legacy = anls(strip_reasoning(response), refs)
    pred = _drop_pct(final_answer(response))
    prefs = [_drop_pct(r) for r in refs]
    enhanced = anls(pred, prefs)
    if enhanced < 1 and any(format_norm(pred) == format_norm(r) for r in prefs):
        enhanced = 1.0
    return {"anls": max(legacy, enhanced)}


# --------------------------------------------------------------------------------------------------- EvoChart
_NUM_TOKEN = re.compile(r"-?\d[\d,]*(?:\.\d+)?|-?\.\d+")


def evo_number(text: str) -> float | None:
    s = str(text).strip()
    if s.endswith("."):
        s = s[:-1]
    v = mv_number(s)
    if v is not None:
        # math-verify reads "25%" as 0.25; undo that so "25%" compares as 25
        if s.endswith("%") and not s.endswith("\\%"):
            v *= 100
        return v
    m = _NUM_TOKEN.search(s)
    if m:
        try:
            return float(m.group().replace(",", ""))
        except ValueError:
            return None
    return None


@scorer("evochart")
def score_evochart(doc: dict, response: str, ctx: ScoreContext) -> dict[str, float]:
    """§4: exact (clear charts, 1e-6) or relaxed 5 % (unclear charts) numeric / string match."""
    pred = final_answer(response)
    gold = str(doc.get("answer", ""))
    clear = doc.get("is_clear", True)
    clear = True if clear is None else bool(clear)
    if clear:
        if pred.strip().lower() == gold.strip().lower():
            return {"accuracy": 1.0}
        p, t = evo_number(pred), evo_number(gold)
        return {"accuracy": float(p is not None and t is not None and abs(p - t) <= 1e-6)}
    if relaxed_correctness(pred, gold):
        return {"accuracy": 1.0}
    p, t = evo_number(pred), evo_number(gold)
    ok = p is not None and t is not None and (abs(p - t) <= 0.05 * abs(t) if t != 0 else abs(p) <= 0.05)
    return {"accuracy": float(ok)}
