"""Sentence and word splitting with NLTK's Punkt algorithm and Treebank tokenizer.

Vero uses ``nltk.sent_tokenize`` / ``nltk.word_tokenize``, which load the English Punkt model from ``nltk_data``.
That data cannot be downloaded here, so we run NLTK's own Punkt algorithm with a hand-written list of the common
English abbreviations the model knows (``Mr.``, ``Dr.``, ``e.g.``, ``U.S.`` …). Sentences split the same way on
ordinary prose; rare abbreviations the model learned and we do not list may split differently.
"""

from __future__ import annotations

from functools import lru_cache

# Abbreviations (lower-case, without the final period) that English Punkt does not end a sentence after.
ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof sr jr st mt ft vs etc e.g i.e a.m p.m u.s u.k u.n u.s.a no nos vol vols fig figs approx
    inc ltd co corp dept est gen gov lt col capt sgt rev hon jan feb mar apr jun jul aug sep sept oct nov dec
    mon tue wed thu fri sat sun al cf ed eds pp ca op cit ph.d b.a m.a b.sc m.sc d.c n.y l.a u.s.s.r e.u""".split()
)


@lru_cache(maxsize=1)
def _tokenizers():
    import random

    from vero_data.rewards import _limits

    state = random.getstate()  # importing NLTK draws from the global RNG: leave the caller's sequence alone
    try:
        with _limits.paused():  # a slow import, not charged to (nor interrupted by) a call's budget
            from nltk.tokenize import NLTKWordTokenizer
            from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer
    finally:
        random.setstate(state)

    params = PunktParameters()
    params.abbrev_types = set(ABBREVIATIONS)
    return PunktSentenceTokenizer(params), NLTKWordTokenizer()


@lru_cache(maxsize=4096)
def sentences(text: str) -> tuple[str, ...]:
    """Punkt sentences (does not split on bare newlines).

    >>> sentences("Mr. Smith is here. He waves!")
    ('Mr. Smith is here.', 'He waves!')
    """
    return tuple(_tokenizers()[0].tokenize(text))


@lru_cache(maxsize=4096)
def words(text: str) -> tuple[str, ...]:
    """``nltk.word_tokenize``: Treebank tokens of each Punkt sentence (punctuation marks are tokens).

    >>> words("The category, as noted, is big.")
    ('The', 'category', ',', 'as', 'noted', ',', 'is', 'big', '.')
    """
    tok = _tokenizers()[1]
    seen: dict[str, list[str]] = {}  # a sentence repeated 10^5 times ("word. word. …") is tokenized once
    out: list[str] = []
    for s in sentences(text):
        toks = seen.get(s)
        if toks is None:
            toks = seen[s] = tok.tokenize(s)
        out.extend(toks)
    return tuple(out)


def clean(text: str) -> str:
    """Strip every line, rejoin with newlines, strip."""
    return "\n".join(line.strip() for line in text.splitlines()).strip()


def paragraphs(text: str) -> list[str]:
    """Pieces between blank lines, blank pieces dropped."""
    import re

    return [p for p in re.split(r"\n\s*\n", text) if p.strip()]
