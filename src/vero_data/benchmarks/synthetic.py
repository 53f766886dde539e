"""The offline ``synthetic`` suite: held-out generated tasks scored with the project's reward verifiers.

Rows come from ``vero_data.sources.generate(..., split="test")``, whose seeds are salted away from the training
split, so no synthetic eval row is a training row (``vero_data.sources.generators.check_disjoint`` checks it).
"""

from __future__ import annotations

from collections.abc import Iterator

from vero_data.benchmarks.extract import strip_reasoning
from vero_data.benchmarks.scoring import ScoreContext, scorer


def synthetic_docs(generator: str, n: int, seed: int = 0, params: dict | None = None) -> Iterator[dict]:
    """Benchmark rows for one generator's held-out (``test``) split, asked and scored as its training rows are
    (``vero_data.stages.normalise``): lettered options after the question, ``choices`` in extra_info, the answer
    serialised with ``answer_to_string`` (JSON for lists and dicts)."""
    import vero_data.sources.generators  # noqa: F401  (registers the generators)
    from vero_data.sources import generate
    from vero_data.stages.normalise import choices_and_answer, question_turn

    for i, s in generate(generator, n, seed, params, split="test"):
        extra = dict(s.extra_info or {})
        yield {
            "id": s.upstream_id or f"{generator}-test-{seed}-{i}",
            "question": question_turn(s, 0, extra),  # no placeholders: images go first, as the loader's turn puts them
            "answer": choices_and_answer(s, extra),
            "reward_type": s.reward_type,
            "extra_info": extra,
            "images": list(s.images or []),
        }


@scorer("synthetic")
def score_synthetic(doc: dict, response: str, ctx: ScoreContext) -> dict[str, float]:
    """Accuracy of the row's own reward verifier on the answer part (format is not scored here)."""
    from vero_data.rewards import score_response

    info = {**(doc.get("extra_info") or {}), "reward_type": doc.get("reward_type")}
    text = str(response)
    if "<answer>" not in text:  # the verifiers read <answer>…</answer>; give them the FAE-stripped text
        text = f"<think></think><answer>{strip_reasoning(text)}</answer>"
    got = score_response(text, str(doc.get("answer", "")), info, raw_accuracy=True)
    return {"accuracy": float(got.raw_accuracy)}
