r"""Answer extraction shared by the VeroEval-30 scorers (eval_scoring.md §0, "FAE").

``final_answer`` keeps the order Vero's lmms-eval fork uses: the first ``<answer>…</answer>``, then the text after
the first ``</think>``, then the LAST brace-balanced ``\boxed{}``, then whole-string ``\text{}`` unwrapping.
The letter helpers are the option-letter parsers several multiple-choice benchmarks share.
"""

from __future__ import annotations

import random
import re
from functools import lru_cache

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


_BRACE = re.compile(r"[{}]")


def last_boxed(text: str) -> str | None:
    r"""Content of the last ``\boxed{…}`` whose braces balance, or None.

    One pass with a stack of open braces (the brace that closes ``{`` is the one the stack pairs it with), so a
    response full of unclosed ``\boxed{`` costs linear time, not one scan to the end per box.

    >>> last_boxed(r"x \boxed{1} then \boxed{\frac{1}{2}}")
    '\\frac{1}{2}'
    """
    if _BOX not in text:
        return None
    opens = {m.end() - 1 for m in re.finditer(re.escape(_BOX), text)}  # index of each box's "{"
    best_start, best_end = -1, -1
    stack: list[int] = []
    for m in _BRACE.finditer(text):
        i = m.start()
        if text[i] == "{":
            stack.append(i)
        elif stack:
            j = stack.pop()
            if j in opens and j > best_start:
                best_start, best_end = j, i
    return None if best_start < 0 else text[best_start + 1 : best_end]


def _unwrap_boxes(text: str) -> str:
    """Best effort when no ``\\boxed{`` balances: drop the wrappers and one trailing brace each.

    Same result as deleting the first ``\\boxed{`` again and again (and, each time, one closing brace at the very
    end when there is one after it), in one left-to-right pass: the kept prefix never contains a box, so each next
    box starts in the unread rest or straddles the join, and trimming the end only ever moves ``end`` left.
    """
    n_box = len(_BOX)
    kept: list[str] = []  # the processed prefix, in pieces
    tail = ""  # its last n_box - 1 characters, where a box straddling a join starts
    i, end = 0, len(text)
    last = [-1, -1]  # (end, index of the last non-space before it): recomputed when end moves

    def trim_end(i: int, end: int) -> int:
        if last[0] != end:
            k = end - 1
            while k >= 0 and text[k].isspace():
                k -= 1
            last[:] = [end, k]
        k = last[1]
        return k if k >= i and text[k] == "}" else end

    while True:
        # A box completed across the join: the prefix ends with "\\box" and the rest starts with "ed{", say.
        for k in range(min(len(tail), n_box - 1), 0, -1):
            if _BOX.startswith(tail[-k:]) and text.startswith(_BOX[k:], i, end):
                cut = k
                break
        else:
            cut = 0
        if cut:
            _drop_suffix(kept, cut)
            tail = _suffix(kept, n_box - 1)
            i += n_box - cut
            end = trim_end(i, end)
            continue
        j = text.find(_BOX, i, end)
        if j < 0:
            return "".join(kept) + text[i:end]
        if j > i:
            kept.append(text[i:j])
        tail = _suffix(kept, n_box - 1)
        i = j + n_box
        end = trim_end(i, end)


def _suffix(pieces: list[str], k: int) -> str:
    out = ""
    for p in reversed(pieces):
        out = p + out
        if len(out) >= k:
            return out[-k:]
    return out


def _drop_suffix(pieces: list[str], k: int) -> None:
    while k and pieces:
        p = pieces.pop()
        if len(p) > k:
            pieces.append(p[: len(p) - k])
            return
        k -= len(p)


def unwrap_text(text: str) -> str:
    r"""Unwrap ``\text{…}`` spanning the whole string, repeatedly.

    Linear: braces are paired once, then each layer narrows a window (peeling them one string at a time costs a scan
    per layer).

    >>> unwrap_text(r"\text{\text{Paris}}")
    'Paris'
    """
    s = text.strip()
    if not s.startswith("\\text"):
        return s
    closes: dict[int, int] = {}
    stack: list[int] = []
    for m in _BRACE.finditer(s):
        if m.group() == "{":
            stack.append(m.start())
        elif stack:
            closes[stack.pop()] = m.start()
    a, b = 0, len(s)
    while s.startswith("\\text", a, b):
        c = a + 5
        while c < b and s[c].isspace():
            c += 1
        j = closes.get(c, b) if c < b and s[c] == "{" else b
        if j >= b or s[j + 1 : b].strip():  # unbalanced here, or something after the closing brace
            break
        a, b = c + 1, j
        while a < b and s[a].isspace():
            a += 1
        while b > a and s[b - 1].isspace():
            b -= 1
    return s[a:b]


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
