"""Answer extraction, text normalisation and the format reward (rewards.md "Answer extraction", "Format reward").

Everything here is linear-time string scanning: no backtracking regex runs over a whole response.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

BOXED = r"\boxed"
_BRACES = re.compile(r"[{}]")
_BRACKETS = re.compile(r"[\[\]]")

_NON_ALNUM = re.compile(r"[\W_]+")
_WS = re.compile(r"\s+")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}\b)")
_TRAILING_ZERO_DECIMAL = re.compile(r"\b(\d+)\.0+\b(?!\.)")
_ARTICLES = frozenset({"a", "an", "the"})
_PUNCT = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2026": "...",
        "\u00a0": " ",
    }
)


_NORM_CACHE_MAX_CHARS = 200


def normalize_text(text: object) -> str:
    """Normalise a short answer for string matching (NFKC, accents, separators, case, articles).

    >>> normalize_text("  The São-Paulo 2,500.00 ")
    'sao paulo 2500'
    """
    s = str(text)
    if len(s) <= _NORM_CACHE_MAX_CHARS:  # gold answers (and rollouts of one prompt) repeat
        return _normalize_cached(s)
    return _normalize(s)


@lru_cache(maxsize=8192)
def _normalize_cached(s: str) -> str:
    return _normalize(s)


def _normalize(s: str) -> str:
    if not s.isascii():  # ASCII is a fixed point of NFKC/NFD and has no combining marks
        s = unicodedata.normalize("NFD", unicodedata.normalize("NFKC", s))
        s = "".join(ch for ch in s if unicodedata.category(ch) != "Mn").translate(_PUNCT)
    if "," in s:
        s = _THOUSANDS.sub("", s)
    if "." in s:
        s = _TRAILING_ZERO_DECIMAL.sub(r"\1", s)
    s = _WS.sub(" ", _NON_ALNUM.sub(" ", s.lower())).strip()
    tokens = s.split()
    if not tokens:
        return s
    kept = [t for t in tokens if t not in _ARTICLES]
    if len(kept) == len(tokens) or not kept or not any(len(t) > 1 for t in kept):
        return s
    return " ".join(kept)


def extract_answer(response: str) -> str:
    """Body of the first ``<answer>…</answer>`` (stripped), else the whole response stripped.

    >>> extract_answer("<think>x</think><answer> 42 </answer>")
    '42'
    """
    a = response.find("<answer>")
    if a >= 0:
        e = response.find("</answer>", a + 8)
        if e >= 0:
            return response[a + 8 : e].strip()
    return response.strip()


def _match_close(text: str, start: int, pattern: re.Pattern[str], opener: str) -> int:
    """Index just past the bracket closing the one opened before ``start``, or -1 if unbalanced."""
    closer = "}" if opener == "{" else "]"
    close = text.find(closer, start)
    if close >= 0 and text.find(opener, start, close) < 0:
        return close + 1  # nothing nested: the first closer is the match
    depth = 1
    for m in pattern.finditer(text, start):
        if m.group() == opener:
            depth += 1
        else:
            depth -= 1
            if depth == 0:
                return m.end()
    return -1


def _skip_ws(text: str, i: int) -> int:
    n = len(text)
    while i < n and text[i].isspace():
        i += 1
    return i


def strip_text_wrapper(text: str) -> str:
    r"""Unwrap ``\text{…}`` when it spans the whole payload.

    >>> strip_text_wrapper(r"\text{ blue }")
    'blue'
    """
    stripped = text.lstrip()
    if not stripped.startswith(r"\text"):
        return text
    i = _skip_ws(stripped, 5)
    if i >= len(stripped) or stripped[i] != "{":
        return text
    end = _match_close(stripped, i + 1, _BRACES, "{")
    if end < 0 or stripped[end:].strip():
        return text
    return stripped[i + 1 : end - 1].strip()


# One-entry memo (the format check and the extraction scan the same answer); one tuple, so thread-safe to swap.
_LAST_BOXED: list[tuple[str | None, tuple[str, ...]]] = [(None, ())]


def boxed_contents(text: str) -> list[str]:
    r"""Every brace-balanced ``\boxed{…}`` payload, stripped and ``\text``-unwrapped; stops at an unbalanced one.

    >>> boxed_contents(r"\boxed{1} and \boxed {\text{a{b}}}")
    ['1', 'a{b}']
    """
    key, boxes = _LAST_BOXED[0]
    if key == text:
        return list(boxes)
    out = _boxed_contents(text)
    _LAST_BOXED[0] = (text, tuple(out))
    return out


def _boxed_contents(text: str) -> list[str]:
    out: list[str] = []
    idx = 0
    while True:
        start = text.find(BOXED, idx)
        if start < 0:
            return out
        cur = _skip_ws(text, start + 6)
        if cur >= len(text) or text[cur] != "{":
            idx = cur
            continue
        end = _match_close(text, cur + 1, _BRACES, "{")
        if end < 0:
            return out
        out.append(strip_text_wrapper(text[cur + 1 : end - 1].strip()))
        idx = end


def last_boxed_bracket(text: str) -> str | None:
    r"""Payload of the last malformed ``\boxed[…]``, if any.

    >>> last_boxed_bracket(r"\boxed[7]")
    '7'
    """
    idx = 0
    last = None
    while True:
        start = text.find(BOXED, idx)
        if start < 0:
            return last
        cur = _skip_ws(text, start + 6)
        if cur >= len(text):
            return last
        if text[cur] != "[":
            idx = cur + 1
            continue
        end = _match_close(text, cur + 1, _BRACKETS, "[")
        if end < 0:
            return last
        last = text[cur + 1 : end - 1].strip()
        idx = end


def unbox(answer: str) -> str:
    r"""The boxed-type prediction: last non-empty ``\boxed{}``, else a ``\boxed[]`` payload, else the text.

    >>> unbox(r"so \boxed{3} then \boxed{4}")
    '4'
    """
    if BOXED not in answer:
        return answer
    boxes = boxed_contents(answer)
    if boxes and boxes[-1]:
        return boxes[-1].strip()
    bracket = last_boxed_bracket(answer)
    return bracket if bracket else answer


def format_parts(response: str) -> tuple[str, str] | None:
    """(think, answer) bodies when the response is exactly ``<think>…</think> <answer>…</answer>``, else None."""
    if not response.startswith("<think>") or response.find("<think>", 7) >= 0:
        return None
    # Each tag exactly once (none of them can overlap itself, so "found, and not found again after" is count == 1)
    te = response.find("</think>")
    if te < 0 or response.find("</think>", te + 8) >= 0:
        return None
    a = response.find("<answer>")
    if a < 0 or response.find("<answer>", a + 8) >= 0:
        return None
    ae = response.find("</answer>")
    if ae < 0 or response.find("</answer>", ae + 9) >= 0:
        return None
    if not (te < a < ae):
        return None
    between = response[te + 8 : a]
    tail = response[ae + 9 :]
    if (between and not between.isspace()) or (tail and not tail.isspace()):
        return None
    return response[7:te], response[a + 8 : ae]


def format_score(response: str, boxed: bool | None) -> float:
    r"""Format reward: 0, 0.5 or 1.

    ``boxed`` True for boxed types (one non-empty box needed for 1.0), None for grounding/clicking (more than one
    ``\boxed`` costs 0.5), False for every other type.

    >>> format_score("<think>r</think><answer>\\boxed{4}</answer>", True)
    1.0
    >>> format_score("<think>r</think><answer>4</answer>", True)
    0.5
    """
    if not response:
        return 0.0
    parts = format_parts(response)
    if parts is None:
        return 0.0
    think, answer = parts
    answer = answer.strip()
    if not think.strip() or not answer:
        return 0.0
    if boxed is True:
        boxes = boxed_contents(answer) if BOXED in answer else []
        return 1.0 if len(boxes) == 1 and boxes[0] else 0.5
    if boxed is None and answer.count(BOXED) > 1:
        return 0.5
    return 1.0
