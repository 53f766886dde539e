"""LLM-judged benchmarks (eval_scoring.md §22–30): the judge decides, these build its prompt and read its reply.

Without a judge (``ctx.judge is None``) a judged sample has no score (None): the run reports the benchmark as
not scored instead of inventing a number.
"""

from __future__ import annotations

import json

from vero_data.benchmarks.extract import final_answer, strip_reasoning
from vero_data.benchmarks.judge import parse_grade, parse_rating10, parse_unit_score, parse_verdict
from vero_data.benchmarks.scoring import ScoreContext, scorer

EQUIVALENCE = (
    "You are checking a model's answer to a question against the reference answer.\n\n"
    "Question:\n{question}\n\nReference answer:\n{reference}\n\nModel answer:\n{response}\n\n"
    "Decide whether the model answer is semantically equivalent to the reference (numbers may differ in format "
    "or units if the value is the same; extra explanation is fine; a different or hedged answer is wrong).\n"
    "End with exactly one line: `Verdict: CORRECT` or `Verdict: INCORRECT`."
)
SIMPLEVQA = (
    "Grade a model's answer to a factual question.\n\nQuestion:\n{question}\n\nGold answer:\n{reference}\n\n"
    "Predicted answer:\n{response}\n\nGrades: A = CORRECT (contains the gold answer's meaning, no contradiction), "
    "B = INCORRECT (contradicts the gold answer or is wrong), C = NOT_ATTEMPTED (refuses or does not answer).\n"
    "End with exactly one line: `Grade: A`, `Grade: B` or `Grade: C`."
)
MMVET = (
    "Compare the ground truth and the prediction from an AI model, and give a correctness score for the "
    "prediction between 0.0 and 1.0 (1.0 fully correct, partial credit allowed). `<AND>` in the ground truth means "
    "all listed elements are needed, `<OR>` means any one suffices.\n\nQuestion:\n{question}\n\n"
    "Ground truth:\n{reference}\n\nPrediction:\n{response}\n\nEnd with exactly one line: `Score: x`."
)
MT_BENCH = (
    "Please act as an impartial judge and evaluate the quality of the AI assistant's answer to the user's "
    "request about an image, given the reference answer. Rate it from 1 to 10.\n\n{history}"
    "User request:\n{question}\n\nReference answer:\n{reference}\n\nAssistant answer:\n{response}\n\n"
    "After a short explanation, output the rating strictly as `[[N]]`."
)
MIA = (
    "Score how well the response follows every component of the instruction about an image.\n\n"
    "Instruction:\n{question}\n\nComponents and weights:\n{reference}\n\nResponse:\n{response}\n\n"
    "Give the weighted total of satisfied components on a 0–10 scale. End with the line `[[N]]`."
)
MMIF = (
    "Check whether a response satisfies each constraint of an instruction about an image.\n\n"
    "Instruction:\n{question}\n\nConstraints:\n{reference}\n\nResponse:\n{response}\n\n"
    "Give the fraction of constraints satisfied as a number between 0.0 and 1.0. End with the line `Score: x`."
)


def _judge(ctx: ScoreContext, prompt: str, parse) -> float | None:
    if ctx.judge is None:
        return None
    value, _ = ctx.judge.ask(prompt, parse)
    return value


def _q(doc: dict, *keys: str) -> str:
    for k in keys:
        if doc.get(k) not in (None, ""):
            return str(doc[k])
    return ""


def _equiv(metric: str, ref_keys: tuple[str, ...], q_keys: tuple[str, ...] = ("question", "query")):
    def fn(doc: dict, response: str, ctx: ScoreContext) -> dict[str, float | None]:
        ref = _q(doc, *ref_keys)
        prompt = EQUIVALENCE.format(question=_q(doc, *q_keys), reference=ref, response=final_answer(response))
        return {metric: _judge(ctx, prompt, parse_verdict)}

    return fn


scorer("charxiv_reasoning")(_equiv("reasoning_acc", ("reasoning_a", "answer"), ("reasoning_q", "question")))
scorer("chartmuseum")(_equiv("judge_accuracy", ("answer",)))
scorer("visual_probe")(_equiv("judge_accuracy", ("answer", "label")))


@scorer("fvqa")
def score_fvqa(doc: dict, response: str, ctx: ScoreContext) -> dict[str, float | None]:
    refs = doc.get("answers") or doc.get("candidate_answers") or []
    ref = _q(doc, "answer") + (f"\n(also acceptable: {', '.join(map(str, refs))})" if refs else "")
    prompt = EQUIVALENCE.format(question=_q(doc, "question"), reference=ref, response=final_answer(response))
    return {"judge_accuracy": _judge(ctx, prompt, parse_verdict)}


@scorer("simplevqa")
def score_simplevqa(doc: dict, response: str, ctx: ScoreContext) -> dict[str, float | None]:
    prompt = SIMPLEVQA.format(question=_q(doc, "question"), reference=_q(doc, "answer"),
                              response=final_answer(response))
    return {"simplevqa_acc": _judge(ctx, prompt, parse_grade)}


@scorer("mmvet")
def score_mmvet(doc: dict, response: str, ctx: ScoreContext) -> dict[str, float | None]:
    prompt = MMVET.format(question=_q(doc, "question"), reference=_q(doc, "answer"), response=final_answer(response))
    return {"gpt_eval_score": _judge(ctx, prompt, parse_unit_score)}


@scorer("mm_mt_bench")
def score_mm_mt_bench(doc: dict, response: str, ctx: ScoreContext) -> dict[str, float | None]:
    """One judged turn per doc (rating 1–10 → /10); ``history`` holds the earlier turns if present."""
    hist = doc.get("history") or ""
    if isinstance(hist, list):
        hist = "\n".join(f"{m.get('role')}: {m.get('content')}" for m in hist if isinstance(m, dict))
    prompt = MT_BENCH.format(history=(f"Conversation so far:\n{hist}\n\n" if hist else ""),
                             question=_q(doc, "question", "prompt"), reference=_q(doc, "reference", "answer"),
                             response=strip_reasoning(response))
    return {"micro_average_score": _judge(ctx, prompt, parse_rating10)}


@scorer("mia_bench")
def score_mia_bench(doc: dict, response: str, ctx: ScoreContext) -> dict[str, float | None]:
    comps = doc.get("components") or []
    weights = doc.get("component_weight") or []
    ref = "\n".join(f"- {c} (weight {w})" for c, w in zip(comps, weights, strict=False)) or _q(doc, "answer")
    prompt = MIA.format(question=_q(doc, "instruction", "question"), reference=ref, response=strip_reasoning(response))
    return {"gpt_eval_score": _judge(ctx, prompt, parse_rating10)}


@scorer("mmifeval")
def score_mmifeval(doc: dict, response: str, ctx: ScoreContext) -> dict[str, float | None]:
    cons = doc.get("constraints") or []
    ref = "\n".join(f"- {json.dumps(c) if not isinstance(c, str) else c}" for c in cons) or _q(doc, "answer")
    prompt = MMIF.format(question=_q(doc, "instruction", "question"), reference=ref, response=strip_reasoning(response))
    return {"mmifeval_overall_accuracy": _judge(ctx, prompt, parse_unit_score)}
