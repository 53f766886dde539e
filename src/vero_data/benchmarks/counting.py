"""CountBenchQA and CountQA scorers (eval_scoring.md §15–16)."""

from __future__ import annotations

import re

from vero_data.benchmarks.extract import final_answer
from vero_data.benchmarks.scoring import ScoreContext, scorer

_INT = re.compile(r"[-+]?\d+")
WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
         "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty")


def count_prediction(response: str) -> int | None:
    """The last signed integer in the FAE answer, else the latest number word of zero…twenty.

    >>> count_prediction("I see 7 dogs."), count_prediction("seventeen"), count_prediction("\\\\boxed{7.0}")
    (7, 17, 0)
    """
    ans = final_answer(response)
    ints = _INT.findall(ans)
    if ints:
        return int(ints[-1])
    low = ans.lower()
    hit = None
    for i, w in enumerate(WORDS):
        if w in low:
            hit = i
    return hit


def _gold(doc: dict, keys: tuple[str, ...]) -> int | None:
    for k in keys:
        v = doc.get(k)
        if isinstance(v, list | tuple):
            v = v[0] if v else None
        if v is None:
            continue
        m = _INT.search(str(v))
        if m:
            return int(m.group())
    return None


@scorer("countbenchqa")
def score_countbenchqa(doc: dict, response: str, ctx: ScoreContext) -> dict[str, float]:
    gold = _gold(doc, ("number", "answer", "count", "label", "gt", "target"))
    pred = count_prediction(response)
    return {"exact_match": float(gold is not None and pred == gold)}


@scorer("countqa")
def score_countqa(doc: dict, response: str, ctx: ScoreContext) -> dict[str, float]:
    gold = _gold(doc, ("answer", "answers", "number", "count", "target"))
    pred = count_prediction(response)
    return {"exact_match": float(gold is not None and pred == gold)}


def expand_countqa(rows):
    """process_docs: one doc per (question, answer) pair of a hub row."""
    for r, row in enumerate(rows):
        qs, ans = row.get("questions") or [], row.get("answers") or []
        if not qs and "question" in row:
            yield row
            continue
        for k, (q, a) in enumerate(zip(qs, ans, strict=False)):
            d = {k2: v for k2, v in row.items() if k2 not in ("questions", "answers")}
            d.update(question=q, answer=str(a), question_id=f"{row.get('id', r)}_{k}")
            yield d
