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

    state = random.getstate()  # (loading must not move the caller's global RNG)
    try:
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
    for _ in range(self.n_trial):
        prob = np.array(self.prior_map, dtype=np.float64) if self.prior_map is not None else np.full(n, 1.0 / n)
        alpha = self.alpha + rng.gauss(0.0, 1.0) * self.ALPHA_WIDTH
        weight = alpha / self.BASE_FREQ
        factors: dict[str, np.ndarray] = {}  # weight + row, per n-gram (the same IEEE sums, computed once)
        mul = np.multiply
        i = 0
        while True:
            if inline:  # Random.choice's draw, without two Python calls per iteration
                r = getrandbits(k)
                while r >= n_grams:
                    r = getrandbits(k)
                word = ngrams[r]
            else:
                word = choice(ngrams)
            f = factors.get(word)
            if f is None and word is not None and word in table:
                f = factors[word] = weight + _row(word, table)
            if f is not None:
                mul(prob, f, out=prob)
            if i % 5 == 0:
                total = sum(prob.tolist())
                if total == 0.0:
                    raise ZeroDivisionError("float division by zero")  # as the pure-Python loop would
                prob /= total
                if prob.max() > self.CONV_THRESHOLD or i >= self.ITERATION_LIMIT:
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
