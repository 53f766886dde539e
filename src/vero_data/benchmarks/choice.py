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
# mmmu_pro/utils.py parse_mcq, pattern 9 (zlab-princeton/vero @ 995e475b, vero-eval/lmms_eval/tasks/), in its order.
MMMU_ANSWER_PHRASES = (
    "the answer is", "answer is", "the correct answer is", "correct answer is", "the answer", "answer",
    "correct answer", "the correct answer", "the best answer is", "best answer is", "the best answer", "best answer",
    "the option is", "option is", "the correct option is", "correct option is", "the choice is", "choice is",
    "the correct choice is", "correct choice is", "i choose", "i select", "i pick", "my answer is", "my choice is",
)
_BOX_OPEN = re.compile(r"\\boxed\s*\{|\\fbox\s*\{")
# (suffix after the letter, priority) for the plain "letter + marker" patterns, searched at the LAST occurrence
_MARKS = (("(", ")", 6), ("", ".", 5), ("", ":", 4), ("", ")", 3), ("", " ", 2), ("", "-", 1), ("", "_", 1),
          ("", "=", 1))


def _boxed_choice(text: str, labels: list[str]) -> str:
    """Letters standing as whole words (any case) inside balanced ``\\boxed{}``/``\\fbox{}``; the one with the
    largest (box start + offset in the box) wins."""
    word = re.compile(r"\b(" + "|".join(map(re.escape, labels)) + r")\b", re.I)
    best: tuple[int, str] | None = None
    for m in _BOX_OPEN.finditer(text):
        depth, i = 1, m.end()
        while i < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        if depth:
            continue
        for w in word.finditer(text[m.end(): i - 1]):
            key = m.start() + w.start()
            if best is None or key > best[0]:
                best = (key, w.group(1).upper())
    return best[1] if best else ""


def mmmu_letter(text: str, option_texts: list[str]) -> str:
    """The MMMU-Pro letter parser (§5–6, the fork's parse_mcq): boxed letters, MV-letter, then the prioritised scan
    over the space-padded, upper-cased text (start 10, end 9, ``k. X`` 8, after an answer phrase 7, ``(X)`` 6, ``X.``
    5, ``X:`` 4, ``X)`` 3, ``X␠`` 2, ``X-``/``X_``/``X=`` 1, option text 1 (only with no other candidate and > 5
    words), any occurrence 0). Positions are last occurrences; highest priority wins, ties go to the earliest."""
    labels = letters(len(option_texts)) or letters(4)
    if not text or not text.strip():
        return ""
    got = _boxed_choice(text, labels) or mv_letter(text, labels)
    if got:
        return got.upper()
    resp = text.strip()
    for ch in ",.!?;:'\"":  # one character class at a time, as the fork strips
        resp = resp.strip(ch)
    resp = f" {resp} "
    up, low = resp.upper(), resp.lower()
    cands: list[tuple[int, int, str]] = []  # (priority, position, letter)
    for lab in labels:
        for pre, post, prio in _MARKS:
            if (i := up.rfind(pre + lab + post)) >= 0:
                cands.append((prio, i, lab))
    for phrase in MMMU_ANSWER_PHRASES:
        if (start := low.find(phrase)) >= 0:
            cands += [(7, i, lab) for lab in labels if (i := up.find(lab, start)) >= 0]
    core = up.strip()
    cands += [(10, 0, lab) for lab in labels if core.startswith(lab)]
    cands += [(9, len(resp) - 1, lab) for lab in labels if core.endswith(lab)]
    for k, lab in enumerate(labels):
        if (i := up.rfind(f"{k + 1}. {lab}")) >= 0:
            cands.append((8, i, lab))
    if not cands and len(resp.split()) > 5:
        for lab, opt in zip(labels, option_texts, strict=False):
            if (i := low.rfind(str(opt).lower())) >= 0:
                cands.append((1, i, lab))
    if not cands:
        cands = [(0, i, lab) for lab in labels if (i := up.rfind(lab)) >= 0]
    if not cands:
        return ""
    return max(cands, key=lambda c: (c[0], -c[1]))[2]


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
# After the fork's game_qa/utils.py game_qa_process_results (the reasoning task's scorer); our code.
_GAME_LABELS = tuple(letters(13)) + tuple(str(i) for i in range(1, 10))
_GAME_PREFIX = re.compile(r"^(answer|option|choice)\s*[:\-]?\s*", re.I)
_GAME_LABEL = re.compile(r"\s*[\(\[]?([A-Z])[\)\].:\s]", re.I)


def _game_simple_choice(answer) -> bool:
    """Whether the gold answer is a bare option token (A–M or 1–9), which turns on math-verify choice parsing."""
    if isinstance(answer, bool) or isinstance(answer, list | tuple | dict | float):
        return False
    if isinstance(answer, int):
        return 1 <= answer <= 9
    if not isinstance(answer, str) or not answer.strip() or answer.strip().lower() in ("yes", "no"):
        return False
    t = re.sub(r"[\s\)\]\}\.\,\:\;]+$", "", re.sub(r"^[\s\(\[\{]+", "", answer.strip()))
    if re.fullmatch(r"[A-Ma-m]", t):
        return True
    return bool(re.fullmatch(r"[+-]?\d+", t)) and 1 <= int(t) <= 9


def _game_token(text: str, mv: bool) -> str:
    """An option token: math-verify's first string match among A–M/1–9 (when ``mv``), else the first standalone
    letter (upper-cased), else the first standalone integer, else ''."""
    t = _GAME_PREFIX.sub("", text.strip())
    if mv and t:
        from vero_data.benchmarks.extract import _letter_targets
        from vero_data.rewards._mv import parse

        try:
            res = parse(t, _letter_targets(_GAME_LABELS))
        except Exception:  # noqa: BLE001 - the fork swallows parser errors too
            res = None
        if res:
            tok = str(res[0]).strip().upper()
            if tok in _GAME_LABELS:
                return tok
    if m := re.search(r"\b([A-Z])\b", t, re.I):
        return m.group(1).upper()
    if m := re.search(r"\b([0-9]+)\b", t):
        return m.group(1)
    return ""


def _game_labels(choices) -> list[str]:
    if not isinstance(choices, list | tuple) or not choices:
        return []
    out = []
    for i, c in enumerate(choices):
        m = _GAME_LABEL.match(c) if isinstance(c, str) else None
        out.append(m.group(1).upper() if m else chr(65 + i))
    return out


def _game_after_answer(text: str) -> str:
    """The text after the last word ``answer`` (leading `` :-`` and whitespace dropped), unless that is empty."""
    hits = list(re.finditer(r"\banswer\b", text, re.I))
    if not hits:
        return text.strip()
    tail = text[hits[-1].end():].lstrip(" :-\t\r\n")
    return tail if tail else text.strip()


@scorer("game_qa")
def score_game_qa(doc: dict, response: str, ctx: ScoreContext) -> dict[str, float]:
    """§11 / game_qa_process_results: option tokens of prediction and gold mapped to 1-based option indices when
    both map (digits 1..n or a label of ``choices``/``options``), else the normalised strings compared exactly."""
    gold_raw = doc.get("answer")
    gold_text = str(gold_raw)
    pred_text = _game_after_answer(final_answer(response))
    labels = _game_labels(doc.get("choices") or doc.get("options"))
    mv = _game_simple_choice(gold_raw)

    def norm(tok: str, fallback: str) -> str:
        if tok and labels and tok.isdigit() and 1 <= int(tok) <= len(labels):
            return labels[int(tok) - 1]
        return tok or fallback.strip()

    def index(tok: str) -> int | None:
        if not tok or not labels:
            return None
        if tok.isdigit():
            return int(tok) if 1 <= int(tok) <= len(labels) else None
        if len(tok) == 1 and tok.isalpha():
            return labels.index(tok.upper()) + 1 if tok.upper() in labels else None
        return None

    p_tok, g_tok = _game_token(pred_text, mv), _game_token(gold_text, mv)
    pi, gi = index(p_tok), index(g_tok)
    if pi is not None and gi is not None:
        return {"game_qa_acc": float(pi == gi)}
    return {"game_qa_acc": float(norm(p_tok, pred_text) == norm(g_tok, gold_text))}


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
