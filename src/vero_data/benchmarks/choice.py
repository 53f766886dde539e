"""Multiple-choice scorers: MMMU-Pro, MathVista, BLINK, ERQA, GameQA-Lite, EmbSpatial, CV-Bench, RealWorldQA,
MME-RealWorld-Lite and V*Bench (eval_scoring.md §5–6, 8–14, 17–18)."""

from __future__ import annotations

import ast
import re

from vero_data.benchmarks.extract import blink_letter, final_answer, letters, mv_letter, seeded_rng, split_labels
from vero_data.benchmarks.scoring import ScoreContext, levenshtein, mv_number, scorer


def _options(value) -> list[str]:
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    if value is None or value == "":
        return []
    try:
        got = ast.literal_eval(str(value))
        return [str(v) for v in got] if isinstance(got, list | tuple) else [str(got)]
    except (ValueError, SyntaxError):
        return [str(value)]


# ------------------------------------------------------------------------------------------------- MMMU-Pro
_BOX_LETTERS = re.compile(r"\\(?:boxed|fbox)\{([^{}]*)\}")
_PHRASES = ("the correct answer is", "the final answer is", "the answer is", "correct answer is", "answer is",
            "the best answer is", "best answer is", "i choose", "i would choose", "i select", "final answer",
            "answer:", "answer")


def mmmu_letter(text: str, option_texts: list[str]) -> str:
    """The MMMU-Pro letter parser: boxed letters, MV-letter, then the prioritised heuristic scan (§5–6)."""
    labels = letters(len(option_texts)) or letters(4)
    last = None
    for m in _BOX_LETTERS.finditer(text):
        for lab in labels:
            for w in re.finditer(rf"\b{lab}\b", m.group(1)):
                if last is None or (m.start(), w.start()) > last[0]:
                    last = ((m.start(), w.start()), lab)
    if last:
        return last[1]
    got = mv_letter(text, labels)
    if got:
        return got
    resp = text.strip().strip(",.!?;:'\"").strip()
    if not resp:
        return ""
    up = resp.upper()
    low = resp.lower()
    phrase_at = next((i for p in _PHRASES if (i := low.find(p)) >= 0), -1)
    best: dict[str, tuple[int, int]] = {}

    def add(lab: str, prio: int, pos: int) -> None:
        cur = best.get(lab)
        if cur is None or (prio, -pos) > (cur[0], -cur[1]):
            best[lab] = (prio, pos)

    for lab in labels:
        e = re.escape(lab)
        if re.match(rf"{e}(?![A-Za-z0-9])", resp):
            add(lab, 10, 0)
        if m := re.search(rf"(?<![A-Za-z0-9]){e}$", resp):
            add(lab, 9, m.start())
        if m := re.search(rf"\b\d+\.\s*{e}\b", resp):
            add(lab, 8, m.end() - 1)
        if phrase_at >= 0 and (i := up.find(lab, phrase_at)) >= 0:
            add(lab, 7, i)
        for prio, pat in ((6, rf"\({e}\)"), (5, rf"(?<![A-Za-z0-9]){e}\."), (4, rf"(?<![A-Za-z0-9]){e}:"),
                          (3, rf"(?<![A-Za-z0-9(]){e}\)"), (2, rf"(?<![A-Za-z0-9]){e} "),
                          (1, rf"(?<![A-Za-z0-9]){e}[-_=]"), (0, rf"(?<![A-Za-z0-9]){e}(?![A-Za-z0-9])")):
            if m := re.search(pat, resp):
                add(lab, prio, m.start())
    if not best and len(resp.split()) > 5:
        for lab, opt in zip(labels, option_texts, strict=False):
            if opt and (i := low.find(str(opt).lower())) >= 0:
                add(lab, 1, i)
    if not best:
        return ""
    return min(best.items(), key=lambda kv: (-kv[1][0], kv[1][1]))[0]


@scorer("mmmu_pro")
def score_mmmu_pro(doc: dict, response: str, ctx: ScoreContext) -> dict[str, float]:
    """§5–6: parsed letter equals ``answer``."""
    pred = mmmu_letter(final_answer(response), _options(doc.get("options")))
    return {"mmmu_acc": float(bool(pred) and pred.upper() == str(doc.get("answer", "")).strip().upper())}


# ------------------------------------------------------------------------------------------------- MathVista
_PAREN_LETTER = re.compile(r"\(([A-Za-z])\)")


def mathvista_normalize(ans: str, doc: dict) -> str | None:
    choices = _options(doc.get("choices")) if doc.get("choices") is not None else []
    if doc.get("question_type") == "multi_choice" and choices:
        labels = letters(len(choices))
        letter = mv_letter(ans, labels)
        if letter is None and (m := _PAREN_LETTER.search(ans)):
            letter = m.group(1).upper()
        if letter is None:
            letter = ans.strip().upper()
        if letter in labels:
            return choices[labels.index(letter)]
        return min(choices, key=lambda c: levenshtein(ans, c))
    atype = doc.get("answer_type")
    if atype in ("integer", "float"):
        v = mv_number(ans)
        if v is None:
            return None
        if atype == "integer":
            return str(int(v)) if v == int(v) else str(v)
        prec = int(doc.get("precision") or 0)
        return str(round(v, prec))
    return ans


@scorer("mathvista")
def score_mathvista(doc: dict, response: str, ctx: ScoreContext) -> dict[str, float]:
    """§8: normalised prediction vs ``answer`` (numeric for integer/float, case-insensitive text otherwise)."""
    pred = mathvista_normalize(final_answer(response), doc)
    gold = str(doc.get("answer", ""))
    if pred is None:
        return {"submission": 0.0}
    if doc.get("question_type") != "multi_choice" and doc.get("answer_type") in ("integer", "float"):
        try:
            g = float(gold)
            p = float(pred)
        except ValueError:
            return {"submission": 0.0}
        if doc.get("answer_type") == "float":
            prec = int(doc.get("precision") or 0)
            return {"submission": float(round(p, prec) == round(g, prec))}
        return {"submission": float(p == g)}
    return {"submission": float(str(pred).strip().lower() == gold.strip().lower())}


# -------------------------------------------------------------------------------------- BLINK / CV-Bench family
def _paren_answer(a) -> str:
    return str(a).strip().strip("()").strip().upper()


def _blink_family(metric: str):
    def fn(doc: dict, response: str, ctx: ScoreContext) -> dict[str, float]:
        labels, texts = split_labels(_options(doc.get("choices")))
        if not labels:
            labels, texts = letters(4), None
        pred = blink_letter(final_answer(response), labels, texts, seeded_rng(metric, ctx.key, response))
        return {metric: float(pred.upper() == _paren_answer(doc.get("answer", "")))}

    return fn


scorer("blink")(_blink_family("blink_acc"))
scorer("cv_bench")(_blink_family("cv_bench_acc"))


@scorer("embspatial")
def score_embspatial(doc: dict, response: str, ctx: ScoreContext) -> dict[str, float]:
    """§12: ``answer`` is an index 0–3 into ``answer_options``."""
    opts = _options(doc.get("answer_options"))
    labels = letters(4)
    pred = blink_letter(final_answer(response), labels, opts[:4] or None, seeded_rng("embspatial", ctx.key, response))
    try:
        gold = labels[int(doc.get("answer"))]
    except (TypeError, ValueError, IndexError):
        gold = str(doc.get("answer", "")).strip().upper()
    return {"embspatial_acc": float(pred == gold)}


_MARKER = re.compile(r"(?:^|(?<=[\s(]))\(?([A-D])[\.\):]")
_STANDALONE = re.compile(r"\b([A-Za-z])\b")


@scorer("erqa")
def score_erqa(doc: dict, response: str, ctx: ScoreContext) -> dict[str, float]:
    """§10: BLINK parser when the question embeds ≥ 2 option markers A–D, else the first standalone letter."""
    ans = final_answer(response)
    markers = set(_MARKER.findall(str(doc.get("question", ""))))
    if len(markers) >= 2:
        pred = blink_letter(ans, letters(4), None, seeded_rng("erqa", ctx.key, response))
    else:
        m = _STANDALONE.search(ans)
        pred = m.group(1).upper() if m else ""
    return {"erqa_acc": float(pred == str(doc.get("answer", "")).strip().upper())}


_RWQA_OPT = re.compile(r"(?:^|(?<=\s))(?:\(([A-D])\)|([A-D])[\.\):])\s*")


def embedded_options(question: str) -> list[str] | None:
    """Option texts embedded in a question (``A. left\\nB. right``), starting from A, at least 2; else None."""
    ms = list(_RWQA_OPT.finditer(question))
    seq = []
    for m in ms:
        lab = m.group(1) or m.group(2)
        if lab == letters(len(seq) + 1)[-1]:
            seq.append(m)
    if not seq or (seq[0].group(1) or seq[0].group(2)) != "A":
        return None
    texts = []
    for i, m in enumerate(seq):
        end = seq[i + 1].start() if i + 1 < len(seq) else len(question)
        t = question[m.end() : end].strip().split("\n")[0].strip()
        texts.append(t)
    texts = [t for t in texts if t]
    return texts if len(texts) >= 2 else None


@scorer("realworldqa")
def score_realworldqa(doc: dict, response: str, ctx: ScoreContext) -> dict[str, float]:
    """§14: letter parse when options are embedded in the question, else lower-cased exact match."""
    ans = final_answer(response)
    opts = embedded_options(str(doc.get("question", "")))
    if opts:
        pred = blink_letter(ans, letters(len(opts)), opts, seeded_rng("rwqa", ctx.key, response)).lower()
    else:
        pred = ans.lower().strip()
        if pred.endswith("."):
            pred = pred[:-1]
    return {"exact_match": float(pred == str(doc.get("answer", "")).strip().lower())}


# ------------------------------------------------------------------------------------------------- GameQA-Lite
_GAME_LABELS = tuple(letters(13)) + tuple(str(i) for i in range(1, 10))
_CHOICE_GOLD = re.compile(r"^(?:[A-M]|[1-9])$")


def _game_norm(s: str) -> str:
    s = s.strip().strip(":").strip()
    return s[:-1].strip() if s.endswith(".") else s


@scorer("game_qa")
def score_game_qa(doc: dict, response: str, ctx: ScoreContext) -> dict[str, float]:
    """§11: choice tokens compared by option index, other answers by case-sensitive normalised string."""
    ans = final_answer(response)
    i = ans.lower().rfind("answer")
    if i >= 0:
        ans = ans[i + 6 :]
    gold = _game_norm(str(doc.get("answer", "")))
    choices = _options(doc.get("choices") if doc.get("choices") is not None else doc.get("options"))
    pred = _game_norm(ans)
    if _CHOICE_GOLD.match(gold):
        got = mv_letter(ans, _GAME_LABELS)
        if got:
            pred = got
    if not re.fullmatch(r"[A-M]|[1-9]", pred):
        if m := re.search(r"(?<![A-Za-z0-9])([A-M])(?![A-Za-z0-9])", pred):
            pred = m.group(1)
        elif m := re.search(r"(?<![\d.])(\d+)(?![\d.])", pred):
            pred = m.group(1)

    def index(tok: str) -> int | None:
        if not choices:
            return None
        labels, _ = split_labels(choices)
        if tok in labels:
            return labels.index(tok)
        if tok.isdigit() and 1 <= int(tok) <= len(choices):
            return int(tok) - 1
        return None

    gi, pi = index(gold), index(pred)
    if gi is not None and pi is not None:
        return {"game_qa_acc": float(gi == pi)}
    return {"game_qa_acc": float(pred == gold)}


# ------------------------------------------------------------------------------------------- MME-RealWorld-Lite
_MME_STRIP = ("The best answer is", "The correct answer is", "The answer is", "The answer", "Best answer:",
              "Best option:", "Answer:", "Option:")
_MME_PHRASE = re.compile(r"(?:answer|option|choice)\s*(?:is|:)?\s*\(?([A-E])\b", re.I)


def mme_letter(ans: str) -> str:
    got = mv_letter(ans, letters(5))
    if got:
        return got
    s = ans
    for p in _MME_STRIP:
        s = s.replace(p, "")
    if len(s.split()) > 10 and not re.search(r"\b[A-E]\b", s):
        return ""
    ms = _MME_PHRASE.findall(ans)
    if ms:
        return ms[-1].upper()
    m = re.search(r"\b([A-E])\b", s)
    return m.group(1) if m else ""


@scorer("mme_realworld")
def score_mme_realworld(doc: dict, response: str, ctx: ScoreContext) -> dict[str, float]:
    """§17: non-empty prediction equal to (or containing) the answer letter."""
    pred = mme_letter(final_answer(response))
    gold = str(doc.get("answer", "")).strip()
    ok = bool(pred) and (pred.lower() == gold.lower() or (bool(gold) and gold in pred))
    return {"mme_realworld_score": float(ok)}


# ----------------------------------------------------------------------------------------------------- V*Bench
_VSTAR = (re.compile(r"^([A-D])"), re.compile(r"(?:ANSWER|CHOICE|OPTION)\s*(?:IS)?\s*:?\s*\(?([A-D])\b"),
          re.compile(r"\(([A-D])\)"), re.compile(r"\b([A-D])[\.\)\]]"), re.compile(r"\b([A-D])\b"))


def vstar_letter(ans: str) -> str:
    s = ans.strip().upper()
    got = mv_letter(s, letters(4))
    if got:
        return got
    for pat in _VSTAR:
        if m := pat.search(s):
            return m.group(1)
    found = set(re.findall(r"[A-D]", s))
    if len(found) == 1:
        return found.pop()
    return s[:1] if s[:1] in "ABCD" and s else ""


@scorer("vstar")
def score_vstar(doc: dict, response: str, ctx: ScoreContext) -> dict[str, float]:
    """§18: parsed letter equals ``label``."""
    pred = vstar_letter(final_answer(response))
    return {"vstar_overall_acc": float(pred == str(doc.get("label", doc.get("answer", ""))).strip().upper())}
