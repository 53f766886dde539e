"""langdetect's ``detect`` with its inner loop on numpy arrays: the same random draws and the same IEEE operations
in the same order (elementwise ``*``, ``+`` and ``/``; the sum stays Python's sequential ``sum``), so the
probabilities, and therefore the verdicts, are bit-for-bit those of ``langdetect.detect`` (tests/…/test_fast_paths.py).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np


@lru_cache(maxsize=1)
def _factory():
    import random

    from vero_data.rewards import _limits

    state = random.getstate()  # (loading must not move the caller's global RNG)
    try:
        with _limits.paused():  # loading the profiles is slow: not charged to (nor interrupted by) a call's budget
            from langdetect import detector_factory

            detector_factory.init_factory()
    finally:
        random.setstate(state)
    return detector_factory._factory


_ROWS: dict[str, np.ndarray] = {}
_MAX_ROWS = 20_000  # n-gram rows kept as arrays (~0.5 KB each)


def _row(word: str, table: dict) -> np.ndarray:
    row = _ROWS.get(word)
    if row is None:
        row = np.asarray(table[word], dtype=np.float64)
        if len(_ROWS) < _MAX_ROWS:
            _ROWS[word] = row
    return row


def _draws_match_choice() -> bool:
    """Whether ``getrandbits(n.bit_length())`` with rejection is ``Random.choice``'s draw on this Python."""
    import random

    a, b = random.Random(12345), random.Random(12345)
    for n in (1, 2, 3, 7, 64, 100, 1000, 4097):
        seq = range(n)
        for _ in range(50):
            k = n.bit_length()
            r = b.getrandbits(k)
            while r >= n:
                r = b.getrandbits(k)
            if a.choice(seq) != r:
                return False
    return True


_INLINE_CHOICE = _draws_match_choice()


def _detect_block(self) -> None:
    """``Detector._detect_block`` (langdetect 1.0.9) with numpy probability vectors."""
    from langdetect.lang_detect_exception import ErrorCode, LangDetectException

    self.cleaning_text()
    ngrams = self._extract_ngrams()
    if not ngrams:
        raise LangDetectException(ErrorCode.CantDetectError, "No features in text.")
    table = self.word_lang_prob_map
    n = len(self.langlist)
    langprob = np.zeros(n, dtype=np.float64)
    rng = self.random
    rng.seed(self.seed)
    choice = rng.choice
    getrandbits = rng.getrandbits
    n_grams = len(ngrams)
    k = n_grams.bit_length()
    inline = _INLINE_CHOICE
    codes = None
    if inline:
        index: dict[str, int] = {}
        codes = [index.setdefault(w, len(index)) for w in ngrams]  # n-gram position -> distinct n-gram
        rows = [_row(w, table) for w in index]  # (the extractor keeps only n-grams present in the table)
    mul = np.multiply
    conv, limit = self.CONV_THRESHOLD, self.ITERATION_LIMIT
    for _ in range(self.n_trial):
        prob = np.array(self.prior_map, dtype=np.float64) if self.prior_map is not None else np.full(n, 1.0 / n)
        alpha = self.alpha + rng.gauss(0.0, 1.0) * self.ALPHA_WIDTH
        weight = alpha / self.BASE_FREQ
        if codes is not None:
            factors: list = [None] * len(rows)  # weight + row per distinct n-gram (the same IEEE sums, once)
            i = 0
            todo = 1  # iteration 0 is followed by a normalisation, then every 5th
            while True:
                for _ in range(todo):
                    r = getrandbits(k)  # Random.choice's draw, without two Python calls
                    while r >= n_grams:
                        r = getrandbits(k)
                    c = codes[r]
                    f = factors[c]
                    if f is None:
                        f = factors[c] = weight + rows[c]
                    mul(prob, f, out=prob)
                i += todo - 1  # the iteration just done, a multiple of 5
                total = sum(prob.tolist())
                if total == 0.0:
                    raise ZeroDivisionError("float division by zero")  # as the pure-Python loop would
                prob /= total
                if prob.max() > conv or i >= limit:
                    break
                i += 1
                todo = 5
        else:
            fdict: dict[str, np.ndarray] = {}
            i = 0
            while True:
                word = choice(ngrams)
                f = fdict.get(word)
                if f is None and word is not None and word in table:
                    f = fdict[word] = weight + _row(word, table)
                if f is not None:
                    mul(prob, f, out=prob)
                if i % 5 == 0:
                    total = sum(prob.tolist())
                    if total == 0.0:
                        raise ZeroDivisionError("float division by zero")
                    prob /= total
                    if prob.max() > conv or i >= limit:
                        break
                i += 1
        langprob += prob / self.n_trial
    self.langprob = langprob.tolist()


def detect(text: str) -> str:
    """``langdetect.detect(text)`` (same seed handling: ``DetectorFactory.seed``)."""
    factory = _factory()
    detector = factory.create()
    detector.append(text)
    detector._detect_block = _detect_block.__get__(detector)
    return detector.detect()
