"""Reward throughput benchmark: cases/s per reward type (one process and all cores) and worst-case latency."""

from __future__ import annotations

import json
import os
import random
import time
from collections import defaultdict
from typing import Any

RULE_TYPES = ("string_match", "multiple_choice", "numeric", "list_string_match", "number_list", "web_action",
              "counting", "search", "grounding", "clicking", "instruction_following")
_WORDS = "red blue green eiffel tower paris dog cat horse car seven apple river mountain".split()


def _wrap(answer: str, boxed: bool = True) -> str:
    body = "\\boxed{" + answer + "}" if boxed else answer
    return "<think>looking at the image</think><answer>" + body + "</answer>"


def _case(rt: str, rng: random.Random) -> dict[str, Any]:
    kind = rng.choices(("correct", "wrong", "malformed"), weights=(5, 4, 1))[0]
    info: dict[str, Any] = {}
    if rt in ("string_match", "search", "list_string_match"):
        truth_words = " ".join(rng.sample(_WORDS, rng.randint(1, 3)))
        answer = truth_words if kind == "correct" else rng.choice(_WORDS)
        truth = json.dumps([truth_words, "alt"]) if rt == "list_string_match" else truth_words.title()
    elif rt == "counting":
        n = rng.randint(0, 30)
        truth, answer = str(n), str(n if kind == "correct" else n + 1)
    elif rt == "multiple_choice":
        letter = rng.choice("ABCD")
        truth = rng.choice((letter, f"{letter}. option text", f"({letter})"))
        answer = letter if kind == "correct" else rng.choice("ABCD")
    elif rt == "numeric":
        v = rng.choice((rng.randint(-500, 5000), round(rng.uniform(0, 100), 2)))
        form = rng.random()
        truth = str(v)
        if kind == "correct":
            answer = str(v) if form < 0.6 else (f"{v} cm" if form < 0.8 else f"x = {v}")
        else:
            answer = str(v + 1) if form < 0.7 else rf"\frac{{{rng.randint(1, 9)}}}{{{rng.randint(2, 9)}}}"
        if rng.random() < 0.2:
            info["tolerance"] = 0.05
    elif rt == "number_list":
        seq = rng.sample(range(1, 9), rng.randint(2, 6))
        truth = json.dumps(seq)
        got = seq if kind == "correct" else rng.sample(seq, len(seq))
        answer = ", ".join(map(str, got))
    elif rt == "web_action":
        gold = {"ACTION": rng.choice(("CLICK", "TYPE")), "MARK": rng.randint(0, 40), "VALUE": rng.choice(("None", "x"))}
        truth = json.dumps(gold)
        pred = dict(gold) if kind == "correct" else {**gold, "MARK": gold["MARK"] + 1}
        answer = json.dumps({k.lower(): v for k, v in pred.items()})
    elif rt in ("grounding", "clicking"):
        info["image_sizes"] = [[1000, 800]]
        boxes = [[x, y, x + rng.randint(20, 200), y + rng.randint(20, 200)] for x, y in
                 ((rng.randint(0, 700), rng.randint(0, 500)) for _ in range(rng.randint(1, 3)))]
        truth = json.dumps([{"bbox_2d": b, "label": "obj"} for b in boxes])
        if rt == "grounding":
            pred = [[c + (0 if kind == "correct" else 60) for c in b] for b in boxes]
            answer = json.dumps([{"bbox_2d": b} for b in pred])
        else:
            b = boxes[0]
            pt = [(b[0] + b[2]) // 2, (b[1] + b[3]) // 2] if kind == "correct" else [b[2] + 5, b[3] + 5]
            answer = json.dumps([{"point_2d": pt}])
        resp = _wrap(answer, boxed=False)
        if kind == "malformed":
            resp = _wrap("```json\n" + answer + "\n```", boxed=False)
        return {"reward_type": rt, "response": resp, "answer": truth, "extra_info": info}
    else:  # instruction_following
        truth = json.dumps({"instructions": [
            {"class": "NumberOfWords", "args": {"num_words": 5, "relation": "at least"}},
            {"class": "CommaChecker", "args": {}},
            {"class": "KeywordChecker", "args": {"keywords": [rng.choice(_WORDS)]}},
        ]})
        text = " ".join(rng.choices(_WORDS, k=rng.randint(3, 40)))
        return {"reward_type": rt, "response": _wrap(text + ".", boxed=False), "answer": truth, "extra_info": info}
    resp = _wrap(answer) if kind != "malformed" else rng.choice((answer, _wrap(answer, boxed=False), "<think></think>"))
    return {"reward_type": rt, "response": resp, "answer": truth, "extra_info": info}


def make_cases(n_cases: int, seed: int = 0) -> list[dict[str, Any]]:
    """A mixed, reproducible case set over every rule-based type (correct, wrong and malformed responses)."""
    rng = random.Random(seed)
    return [_case(RULE_TYPES[i % len(RULE_TYPES)], rng) for i in range(n_cases)]


# Short answers that make sympy/math-verify evaluate for minutes, or expand for seconds, if nothing bounds them
# (issue 19): exponents, factorials, binomials, Gamma, power towers, exp, sums and products over huge ranges,
# matrices, each spelled several ways. Every reward type sees each one boxed, as ``$…$`` and bare.
PATHOLOGICAL = (
    r"9^{3 \cdot 333333333}", r"\binom{100000000}{50000000}", r"(99999999)!", r"\Gamma(99999999)",
    r"10^{10^{10}}", r"\frac{(10^8)!}{2}", r"\binom{10^8}{5*10^7}", r"2^{2^{2^{2^{2^{2}}}}}", r"e^{10^9}",
    r"\sqrt[1000000]{10^{1000}}", r"9**9**9**9", r"2^(10^9)", r"x^{999999999}", r"(x+1)^{1000}",
    r"\sum_{k=1}^{10^9} 2^k", r"\prod_{k=1}^{10^8} k", r"\int_0^1 e^{x^2}\sin(x^{10}) dx", r"\gcd(9^{9^9}, 6)",
    r"\det\begin{pmatrix} 9^{9^9} & 2 \\ 3 & 9^{9^9} \end{pmatrix}", r"\operatorname{zeros}(100000, 100000)",
    r"x^{2}|_{x=9^{9^9}}", r"[9^{9^{9}}, 1]", r"\underbrace{9^{9^{9}}}_{n}", r"1.5^{10^9}", r"\cosh(10^9)",
    r"\Gamma(10^{8}+\frac{1}{2})", r"(((3!)!)!)!", r"9^{9^{9}} - 9^{9^{9}}",
)


def adversarial_cases() -> list[dict[str, Any]]:
    """Huge strings, deep braces, 10k boxes and pathological LaTeX, for every rule-based type and the fallback."""
    big = "x" * 900_000
    boxes = json.dumps([{"bbox_2d": [i % 900, i % 700, i % 900 + 50, i % 700 + 50]} for i in range(10_000)])
    nested = r"\boxed{" + "{" * 50_000 + "}"
    latex = r"\boxed{" + r"\frac{1}{" * 2000 + "}"
    sentences = "word. " * 30_000  # 30k one-word sentences: seconds of sentence splitting without a budget
    math = [p for m in PATHOLOGICAL for p in ("\\boxed{" + m + "}", "$" + m + "$", m)]
    out = []
    for rt in (*RULE_TYPES, "fallback"):
        info: dict[str, Any] = {"image_sizes": [[1000, 800]]}
        truth = '[{"bbox_2d": [0, 0, 50, 50]}]' if rt in ("grounding", "clicking") else "7"
        if rt == "instruction_following":
            truth = json.dumps({"instructions": [{"class": "NumberOfSentences", "args": {"num_sentences": 2}},
                                                 {"class": "NumberOfWords", "args": {"num_words": 5}}]})
        for payload in (big, nested, latex, boxes, sentences, *math):
            out.append({"reward_type": rt, "response": _wrap(payload, boxed=False), "answer": truth, "extra_info": info})
        if rt == "numeric":  # the tolerance path evaluates parsed answers to floats
            out += [{"reward_type": rt, "response": _wrap(m, boxed=False), "answer": "7.5",
                     "extra_info": {"tolerance": 0.01}} for m in math]
    return out


def worst_case_latency(cases: list[dict[str, Any]] | None = None) -> dict[str, dict[str, Any]]:
    """Per reward type, the slowest of ``cases`` (default: :func:`adversarial_cases`), each scored on a fresh thread
    (where math-verify's signal timeouts cannot work): seconds and the start of that response's answer."""
    import threading

    from vero_data.rewards.batch import score_case

    worst: dict[str, dict[str, Any]] = {}
    for c in adversarial_cases() if cases is None else cases:
        took: list[float] = []

        def run(case: dict[str, Any] = c, took: list[float] = took) -> None:
            t0 = time.perf_counter()
            score_case(case)
            took.append(time.perf_counter() - t0)

        t = threading.Thread(target=run, daemon=True)
        t.start()
        t.join()
        rt = c["reward_type"]
        if took and took[0] >= worst.get(rt, {}).get("s", -1.0):
            answer = c["response"].partition("<answer>")[2].partition("</answer>")[0]
            worst[rt] = {"s": round(took[0], 4), "answer": answer[:60]}
    return dict(sorted(worst.items()))


def clear_caches() -> None:
    """Empty every per-text cache so a measurement never reuses work from an earlier pass over the same cases."""
    from vero_data.rewards import _mv, _text, fallback, grounding, list_match, multiple_choice, numeric, web_action
    from vero_data.rewards.ifeval import checkers, driver, text

    for fn in (_mv._parse_cached, numeric.candidates, numeric._number_reading, numeric._exact_equal_cached,
               fallback._verdict_cached, multiple_choice.gold_letter, list_match.gold_items, web_action._gold,
               grounding._gold_cached, _text._normalize_cached, text.sentences, text.words, checkers._detect_cached,
               driver._load_cached):
        fn.cache_clear()
    _text._LAST_BOXED[0] = (None, ())
    _mv._VERDICTS.clear()


def run_rewards_bench(n_cases: int = 20000, workers: int | None = None, seed: int = 0) -> dict[str, Any]:
    """Throughput (cases/s) per type and overall, single-process and with ``workers`` processes, plus worst-case
    latency per type (the fallback included) on adversarial inputs, each scored on its own thread. Returns a
    JSON-able dict."""
    from vero_data.rewards.batch import score_batch, score_case

    cases = make_cases(n_cases, seed)
    for c in make_cases(len(RULE_TYPES) * 10, seed + 1):  # warm-up: imports (math-verify, scipy, nltk) load once
        score_case(c)
    clear_caches()
    workers = workers or os.cpu_count() or 1
    by_type: dict[str, list[dict]] = defaultdict(list)
    for c in cases:
        by_type[c["reward_type"]].append(c)
    per_type = {}
    total_time = 0.0
    for rt, group in by_type.items():
        t0 = time.perf_counter()
        scores = [score_case(c) for c in group]
        dt = time.perf_counter() - t0
        total_time += dt
        per_type[rt] = {"cases": len(group), "cases_per_s": round(len(group) / dt, 1),
                        "mean_score": round(sum(s["score"] for s in scores) / len(scores), 4)}
    clear_caches()  # workers fork from this process: start them cold too
    t0 = time.perf_counter()
    score_batch(cases, workers=workers)
    parallel = time.perf_counter() - t0
    clear_caches()  # the adversarial pass starts cold too: no refusal is remembered from a warm-up
    worst = worst_case_latency()
    return {
        "n_cases": n_cases,
        "seed": seed,
        "workers": workers,
        "single_process_cases_per_s": round(n_cases / total_time, 1),
        "parallel_cases_per_s": round(n_cases / parallel, 1),
        "per_type": dict(sorted(per_type.items())),
        "worst_case_latency_s": {rt: w["s"] for rt, w in worst.items()},
        "worst_case_answer": {rt: w["answer"] for rt, w in worst.items()},
    }
