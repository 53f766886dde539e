r"""Answer extraction shared by the VeroEval-30 scorers (eval_scoring.md §0, "FAE").

``final_answer`` keeps the order Vero's lmms-eval fork uses: the first ``<answer>…</answer>``, then the text after
the first ``</think>``, then the LAST brace-balanced ``\boxed{}``, then whole-string ``\text{}`` unwrapping.
The letter helpers are the option-letter parsers several multiple-choice benchmarks share.
"""

from __future__ import annotations

import random
import re
from functools import lru_cache

from vero_data.rewards._text import strip_text_wrapper

_BOX = "\\boxed{"


def strip_reasoning(text: object) -> str:
    """Steps 1–4 of FAE: ``<answer>`` body, else the text after ``</think>`` (no box handling).

    >>> strip_reasoning("<think>a</think> b ")
    'b'
    """
    if text is None:
        return ""
    s = text if isinstance(text, str) else str(text)
    s = s.strip()
    if not s:
        return ""
    if "</think>" in s and "<think>" not in s:
        s = "<think>" + s
    a = s.find("<answer>")
    if a >= 0:
        e = s.find("</answer>", a + 8)
        if e >= 0:
            s = s[a + 8 : e]
    t = s.find("</think>")
    if t >= 0:
        s = s[t + 8 :]
    return s.strip()


def _balanced_end(text: str, start: int) -> int:
    """Index of the ``}`` closing the brace opened just before ``start``, or -1."""
    depth = 1
    for i in range(start, len(text)):
        c = text[i]
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i
    return -1


def last_boxed(text: str) -> str | None:
    r"""Content of the last ``\boxed{…}`` whose braces balance, or None.

    >>> last_boxed(r"x \boxed{1} then \boxed{\frac{1}{2}}")
    '\\frac{1}{2}'
    """
    pos = text.rfind(_BOX)
    while pos >= 0:
        end = _balanced_end(text, pos + len(_BOX))
        if end >= 0:
            return text[pos + len(_BOX) : end]
        pos = text.rfind(_BOX, 0, pos)
    return None


def _unwrap_boxes(text: str) -> str:
    """Best effort when no ``\\boxed{`` balances: drop the wrappers and one trailing brace each."""
    out = text
    while _BOX in out:
        i = out.find(_BOX)
        rest = out[i + len(_BOX) :]
        if rest.rstrip().endswith("}"):
            rest = rest.rstrip()[:-1]
        out = out[:i] + rest
    return out


def unwrap_text(text: str) -> str:
    r"""Unwrap ``\text{…}`` spanning the whole string, repeatedly.

    >>> unwrap_text(r"\text{\text{Paris}}")
    'Paris'
    """
    prev = None
    s = text.strip()
    while prev != s:
        prev = s
        s = strip_text_wrapper(s).strip()
    return s


def final_answer(text: object, boxed: bool = True) -> str:
    r"""FAE: the final answer of a reasoning response (eval_scoring.md §0).

    >>> final_answer("<think>7?</think>\\boxed{8}")
    '8'
    >>> final_answer("abc</think><answer>\\boxed{\\text{Paris}}</answer>")
    'Paris'
    >>> final_answer("x \\boxed{1} then \\boxed{2}")
    '2'
    """
    s = strip_reasoning(text)
    if not s:
        return ""
    if boxed:
        b = last_boxed(s)
        if b is not None:
            s = b
        elif _BOX in s:
            s = _unwrap_boxes(s)
    return unwrap_text(s).strip()


# ----------------------------------------------------------------------------------------------- option letters
def letters(n: int, first: str = "A") -> list[str]:
    return [chr(ord(first) + i) for i in range(n)]


@lru_cache(maxsize=64)
def _letter_targets(allowed: tuple[str, ...]):
    from vero_data.rewards._mv import _mv

    _, p = _mv()
    return (p.StringExtractionConfig(strings=allowed),)


def mv_letter(text: str, allowed: list[str] | tuple[str, ...]) -> str | None:
    """math-verify string extraction restricted to ``allowed`` labels ("MV-letter"); None when nothing fits.

    >>> mv_letter("the answer is B", "ABCD")
    'B'
    """
    from vero_data.rewards._mv import parse

    allowed = tuple(allowed)
    if not text or not allowed:
        return None
    res = parse(text, _letter_targets(allowed))
    upper = {a.upper(): a for a in allowed}
    for r in res:
        if isinstance(r, str) and r.strip().upper() in upper:
            return upper[r.strip().upper()]
    return None


def seeded_rng(*key: object) -> random.Random:
    """A per-sample RNG: the upstream random fallbacks become reproducible (pitfalls.md §3)."""
    return random.Random("\0".join(str(k) for k in key))


_LABEL_PREFIX = re.compile(r"^\s*\(?([A-Z])\s*[\.\):]\s*(.*)$", re.S)


def split_labels(choices: list) -> tuple[list[str], list[str]]:
    """Option labels and texts: a leading ``A``/``(A)``/``A.``/``A:`` label if present, else A, B, … by position."""
    labels, texts = [], []
    for i, c in enumerate(choices):
        s = str(c)
        m = _LABEL_PREFIX.match(s)
        if m:
            labels.append(m.group(1))
            texts.append(m.group(2).strip())
        else:
            labels.append(chr(ord("A") + i))
            texts.append(s.strip())
    return labels, texts


def blink_letter(text: str, labels: list[str], texts: list[str] | None, rng: random.Random) -> str:
    """The BLINK-family parser (BLINK, CV-Bench, EmbSpatial, ERQA, RealWorldQA MC), random label as last resort.

    MV-letter over the labels; else ``(X)`` anywhere, then ``X `` (upper-cased), then ``X.``; then (> 5 words)
    option-text containment; several candidates → the one occurring last.
    """
    got = mv_letter(text, labels)
    if got is not None:
        return got
    resp = " " + text.strip(" .,!?;:'\"") + " "
    cands: list[tuple[int, str]] = []
    for lab in labels:
        i = resp.rfind(f"({lab})")
        if i >= 0:
            cands.append((i, lab))
    if not cands:
        up = resp.upper()
        for lab in labels:
            i = up.rfind(f" {lab} ")
            if i >= 0:
                cands.append((i, lab))
    if not cands:
        for lab in labels:
            i = resp.rfind(f"{lab}.")
            if i >= 0:
                cands.append((i, lab))
    if not cands and texts and len(resp.split()) > 5:
        low = resp.lower()
        for lab, t in zip(labels, texts, strict=False):
            if t and (i := low.rfind(t.lower())) >= 0:
                cands.append((i, lab))
    if not cands:
        return rng.choice(labels)
    return max(cands)[1]
