"""The checker catalogue of instruction_checkers.md § 2, one plain function per class name.

Each function takes the answer text plus the class's args as keyword-only parameters and returns a bool. Building
and checking are one step: argument validation raises (TypeError → the driver retries with the declared keys only,
anything else → unsatisfied), exactly where Vero's ``build_description`` would. Absent args draw from ``RNG``, which
the driver reseeds per entry (Vero leaves these unseeded, so no reimplementation can match them exactly).
"""

from __future__ import annotations

import json
import random
import re
import string
from collections import Counter
from collections.abc import Callable
from functools import lru_cache

from vero_data.registry import Registry
from vero_data.rewards.ifeval.text import clean, paragraphs, sentences, words


class _TrackedRandom(random.Random):
    """A ``Random`` that knows whether it is still freshly seeded with 0, so re-seeding can be skipped.

    Every draw goes through ``random()`` or ``getrandbits()`` (``choice``/``randint``/``sample`` use the latter).
    """

    _fresh_zero = False

    def random(self) -> float:
        self._fresh_zero = False
        return super().random()

    def getrandbits(self, k: int) -> int:
        self._fresh_zero = False
        return super().getrandbits(k)

    def seed(self, a=None, version=2) -> None:
        super().seed(a, version)
        self._fresh_zero = type(a) is int and a == 0 and version == 2

    def setstate(self, state) -> None:
        super().setstate(state)
        self._fresh_zero = False

    def seed_zero(self) -> None:
        """``seed(0)``, skipped when nothing was drawn since the last ``seed(0)``."""
        if not self._fresh_zero:
            self.seed(0)


RNG = _TrackedRandom(0)
# instruction class name → checker; names come from dataset rows, so a dotted name is never imported
CHECKERS: Registry[Callable[..., bool]] = Registry("instruction checker", imports=False)
# Arg names a class declares, where they differ from its parameters (ExcludeWordHarderChecker).
DECLARED: dict[str, tuple[str, ...]] = {}

LANGUAGES = {"en": "English", "zh": "Chinese", "fr": "French", "es": "Spanish", "de": "German", "it": "Italian",
             "pt": "Portuguese", "ru": "Russian", "ja": "Japanese", "ko": "Korean"}
POOL = ("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa quebec "
        "romeo sierra tango uniform victor whiskey xray yankee zulu").split()
RELATIONS = ("less than", "at least")
STARTERS = ("I would say", "My answer is", "I believe", "In my opinion", "I think", "I reckon", "I feel",
            "From my perspective", "As I see it", "According to me", "As far as I'm concerned", "To my understanding",
            "In my view", "My take on it is", "As per my perception")
ENDERS = ("Any other questions?", "Is there anything else I can help with?")
PHRASES = ("Dance like nobody is watching you", "The early bird catches the worm", "Time flies when having fun",
           "Every cloud has a silver lining", "Actions speak louder than words", "Don't judge a book by cover",
           "Live each day to the fullest", "All that glitters is not gold", "Laughter is the best medicine",
           "The pen is mightier than sword")
KEY_SENTENCES = ("For now, this is fine.",)


def checker(fn: Callable[..., bool]) -> Callable[..., bool]:
    return CHECKERS.register(fn.__name__, fn)


def _relation(relation):
    if relation is None:
        return RNG.choice(RELATIONS)
    if relation not in RELATIONS:
        raise ValueError(f"relation must be one of {RELATIONS}")
    return relation


def _compare(count, relation, n) -> bool:
    return count < n if relation == "less than" else count >= n


def _pos(value, lo, hi):
    return RNG.randint(lo, hi) if value is None or value < 0 else value


def _falsy(value, lo, hi):
    return value if value else RNG.randint(lo, hi)


def _kw(keyword):
    return keyword.strip() if keyword else RNG.choice(POOL)  # Vero: `if not keyword` → random keyword


def _count(pattern: str, text: str) -> int:
    return len(re.findall(pattern, text, flags=re.IGNORECASE))


def _detect(text: str) -> str | None:
    """langdetect's verdict (seeded, so deterministic per text; short texts cached: it is the slowest check)."""
    return _detect_cached(text) if len(text) <= 8192 else _detect_uncached(text)


@lru_cache(maxsize=2048)
def _detect_cached(text: str) -> str | None:
    return _detect_uncached(text)


def _detect_uncached(text: str) -> str | None:
    from vero_data.rewards import _limits

    with _limits.paused():  # first use imports langdetect: not charged to (nor interrupted by) the call's budget
        from langdetect import DetectorFactory
        from langdetect.lang_detect_exception import LangDetectException

        from vero_data.rewards.ifeval._langdetect import detect

    DetectorFactory.seed = 0
    try:
        return detect(text)
    except LangDetectException:
        return None


def _split_stars(text: str) -> list[str] | None:
    """``***`` paragraphs: blank first/last pieces dropped, a blank middle piece → None."""
    pieces = re.split(r"\s?\*\*\*\s?", text)
    out = []
    for i, p in enumerate(pieces):
        if not p.strip():
            if i in (0, len(pieces) - 1):
                continue
            return None
        out.append(p)
    return out


def _paragraph_count(pieces: list[str]) -> int | None:
    n = len(pieces)
    for i, p in enumerate(pieces):
        if not p.strip():
            if i in (0, len(pieces) - 1):
                n -= 1
            else:
                return None
    return n


# 2.1 language
@checker
def ResponseLanguageChecker(text, *, language=None):
    language = RNG.choice(list(LANGUAGES)) if language is None else language
    LANGUAGES[language]  # noqa: B018  (unsupported code → KeyError at build, as in Vero)
    found = _detect(text)
    return True if found is None else found == language


# 2.2 length
@checker
def NumberOfSentences(text, *, num_sentences=None, relation=None):
    n, rel = _pos(num_sentences, 1, 20), _relation(relation)
    return _compare(len(sentences(text)), rel, n)


@checker
def NumberOfWords(text, *, num_words=None, relation=None):
    n, rel = _pos(num_words, 100, 500), _relation(relation)
    return _compare(len(words(text)), rel, n)


@checker
def ParagraphChecker(text, *, num_paragraphs=None):
    n = _pos(num_paragraphs, 1, 5)
    return _paragraph_count(re.split(r"\s?\*\*\*\s?", text)) == n


@checker
def ParagraphBasicChecker(text):
    return _paragraph_count(re.split(r"\s?\*\*\*\s?", text)) == 2


@checker
def ParagraphBasicChecker2(text):
    return _paragraph_count(text.split("\n\n")) == 2


@checker
def ParagraphFirstWordCheck(text, *, num_paragraphs=None, nth_paragraph=None, first_word=None):
    n = _pos(num_paragraphs, 1, 5)
    if nth_paragraph is None or nth_paragraph <= 0 or nth_paragraph > n:
        nth_paragraph = RNG.randint(1, n)
    first_word = (first_word if first_word is not None else RNG.choice(POOL)).lower()
    pieces = text.split("\n\n")
    count = sum(1 for p in pieces if p.strip())
    if nth_paragraph > count:
        return False
    paragraph = pieces[nth_paragraph - 1].strip()
    if not paragraph:
        return False
    word = paragraph.split()[0].strip().lstrip("'").lstrip('"')
    got = ""
    for ch in word:
        if ch in ".,?!'\"":
            break
        got += ch.lower()
    return count == n and got == first_word


# 2.3 content
@checker
def PlaceholderChecker(text, *, num_placeholders=None):
    return len(re.findall(r"\[.*?\]", text)) >= _pos(num_placeholders, 1, 4)


@checker
def PostscriptChecker(text, *, postscript_marker=None):
    marker = postscript_marker.strip() if postscript_marker is not None else RNG.choice(("P.S.", "P.P.S"))
    low = text.lower()
    if marker == "P.P.S":
        pattern = r"p\.\s?p\.\s?s"
    elif marker == "P.S.":
        pattern = r"p\.\s?s\."
    else:
        pattern = marker.lower()
    return re.search(pattern, low) is not None


# 2.4 format
@checker
def BulletListChecker(text, *, num_bullets=None):
    n = _pos(num_bullets, 1, 5)
    stars = re.findall(r"^\s*\*[^\*].*$", text, flags=re.MULTILINE)
    dashes = re.findall(r"^\s*-.*$", text, flags=re.MULTILINE)
    return len(stars) + len(dashes) == n


@checker
def ConstrainedResponseChecker(text):
    return text.strip() in ("My answer is yes.", "My answer is no.", "My answer is maybe.")


@checker
def HighlightSectionChecker(text, *, num_highlights=None):
    n = _pos(num_highlights, 1, 4)
    h = sum(1 for m in re.findall(r"\*[^\n\*]*\*", text) if m.strip("*").strip())
    h += sum(1 for m in re.findall(r"\*\*[^\n\*]*\*\*", text) if m.removeprefix("**").removesuffix("**").strip())
    return h >= n


@checker
def SectionChecker(text, *, section_spliter=None, num_sections=None):
    splitter = section_spliter.strip() if section_spliter is not None else RNG.choice(("Section", "SECTION"))
    n = _pos(num_sections, 1, 5)
    return len(re.split(r"\s?" + splitter + r"\s?\d+\s?", text)) - 1 >= n


@checker
def JsonFormat(text):
    value = text.strip()
    for prefix in ("```json", "```Json", "```JSON"):
        value = value.removeprefix(prefix)
    value = value.removeprefix("```").removesuffix("```").strip()
    try:
        json.loads(value)
    except ValueError:
        return False
    return True


@checker
def TitleChecker(text):
    return any(t.lstrip("<").rstrip(">").strip() for t in re.findall(r"<<[^\n]+>>", text))


# 2.5 keywords
@checker
def KeywordChecker(text, *, keywords=None):
    keywords = sorted(keywords) if keywords else RNG.sample(POOL, 2)
    return all(re.search(k, text, flags=re.IGNORECASE) for k in keywords)


@checker
def KeywordFrequencyChecker(text, *, keyword=None, frequency=None, relation=None):
    kw, n, rel = _kw(keyword), _pos(frequency, 1, 3), _relation(relation)
    return _compare(_count(kw, text), rel, n)


@checker
def KeywordFrequencyCheckerDifferent(text, *, keyword=None, frequency=None, relation=None):
    return KeywordFrequencyChecker(text, keyword=keyword, frequency=frequency, relation=relation)


@checker
def KeywordFrequencyOnceChecker(text, *, keyword=None):
    return _count(_kw(keyword), text) == 1


@checker
def ForbiddenWords(text, *, forbidden_words=None):
    forbidden = sorted(set(forbidden_words)) if forbidden_words else RNG.sample(POOL, 2)
    return not any(re.search(r"\b" + w + r"\b", text, flags=re.IGNORECASE) for w in forbidden)


@checker
def ExcludeWordHarderChecker(text, *, keyword=None, instruction=None):
    # Vero: a falsy keyword → a random token of `instruction` (both absent → AttributeError → unsatisfied)
    keyword = keyword.strip() if keyword else RNG.choice(instruction.split())
    return not re.search(r"\b" + re.escape(keyword) + r"\b", text, flags=re.IGNORECASE)


DECLARED["ExcludeWordHarderChecker"] = ("keyword",)


@checker
def LetterFrequencyChecker(text, *, letter=None, let_frequency=None, let_relation=None):
    if not letter or len(letter) > 1 or not ("a" <= letter.lower() <= "z"):
        letter = RNG.choice(string.ascii_letters)  # Vero draws from both cases, then lower-cases
    n = _pos(let_frequency, 1, 10)
    rel = _relation(let_relation)  # an unknown relation raises at build in Vero (→ entry unsatisfied)
    count = text.lower().count(letter.lower())
    return count < n if rel == "less than" else count >= n


@checker
def CountIncrementWordChecker(text, *, keyword1=None, keyword2=None):
    return _count(_kw(keyword1), text) == 1 and _count(_kw(keyword2), text) == 2


@checker
def KeywordSpecificPositionChecker(text, *, keyword=None, n=None, m=None):
    keyword = _first(keyword)
    n, m = _falsy(n, 1, 20), _falsy(m, 1, 30)
    sents = sentences(text)
    if len(sents) < n:
        return False
    toks = words(sents[n - 1])
    return len(toks) >= m and toks[m - 1] == keyword


@checker
def PalindromeBasicChecker(text):
    return any(t == t[::-1] for t in text.split())


# 2.6 start / end
@checker
def ConstrainedStartChecker(text, *, starter=None):
    starter = starter.strip() if starter is not None else RNG.choice(STARTERS)
    return text.lstrip().startswith(starter)


@checker
def EndChecker(text, *, end_phrase=None):
    phrase = end_phrase.strip() if end_phrase is not None else RNG.choice(ENDERS)
    return text.strip().strip('"').lower().endswith(phrase.lower())


@checker
def QuotationChecker(text):
    t = text.strip()
    return len(t) > 1 and t[0] == '"' and t[-1] == '"'


@checker
def StartEndChecker(text):
    toks = words(text)
    return len(toks) >= 2 and toks[0].lower() == toks[-1].lower()


def _first(word):
    """Vero's word arg: falsy → random pool word; a non-string → its first element; stripped."""
    if not word:
        return RNG.choice(POOL)
    return word[0].strip() if not isinstance(word, str) else word.strip()


@checker
def FirstWordSentChecker(text, *, first_word=None):
    fw = _first(first_word).lower()
    return all(s.split()[0].lower() == fw for s in sentences(text))


@checker
def FirstWordAnswerChecker(text, *, first_word=None):
    fw = (first_word.strip() if first_word else RNG.choice(POOL)).lower()
    return text.split()[0].lower() == fw


def _bare(token: str) -> str:
    return re.sub(r"[^\w\s]", "", token).lower()


@checker
def LastWordSentChecker(text, *, last_word=None):
    lw = _first(last_word).lower()
    return all(_bare(s.split()[-1]) == lw for s in sentences(text))


@checker
def LastWordAnswerChecker(text, *, last_word=None):
    lw = (last_word.strip() if last_word else RNG.choice(POOL)).lower()
    return _bare(text.split()[-1]) == lw


# 2.7 punctuation
@checker
def CommaChecker(text):
    return "," not in text


@checker
def PunctuationDotChecker(text):
    return "." not in text


@checker
def PunctuationExclamationChecker(text):
    return "!" not in text


# 2.8 case
@checker
def CapitalLettersEnglishChecker(text):
    if not text.isupper():
        return False
    found = _detect(text)
    return found is None or found == "en"


@checker
def LowercaseLettersEnglishChecker(text):
    if not text.islower():
        return False
    found = _detect(text)
    return found is None or found == "en"


@checker
def CapitalWordFrequencyChecker(text, *, capital_frequency=None, capital_relation=None):
    n = capital_frequency if capital_frequency is not None else RNG.randint(1, 20)
    rel = _relation(capital_relation)
    return _compare(sum(1 for w in words(text) if w.isupper()), rel, n)


@checker
def LowercaseCountingChecker(text, *, N=None):
    return len(re.findall(r"\b[a-z]+\b", text)) <= _falsy(N, 2, 3)


# 2.9 combination / repetition / copying
@checker
def TwoResponsesChecker(text):
    pieces = text.split("******")
    kept = []
    for i, p in enumerate(pieces):
        if not p.strip():
            if i not in (0, len(pieces) - 1):
                return False
        else:
            kept.append(p)
    return len(kept) == 2 and kept[0].strip() != kept[1].strip()


def _prompt(prompt_to_repeat):
    if not prompt_to_repeat:
        raise ValueError("prompt_to_repeat is required")
    return prompt_to_repeat


@checker
def RepeatPromptThenAnswer(text, *, prompt_to_repeat=None):
    return text.strip().lower().startswith(_prompt(prompt_to_repeat).strip().lower())


@checker
def CopyChecker(text, *, prompt_to_repeat=None):
    return text.strip().lower() == _prompt(prompt_to_repeat).strip().lower()


@checker
def CopyingSimpleChecker(text, *, prompt_to_repeat=None):
    return CopyChecker(text, prompt_to_repeat=prompt_to_repeat)


@checker
def CopyingMultipleChecker(text, *, prompt_to_repeat=None, N=None):
    prompt = _prompt(prompt_to_repeat).strip().lower()
    n = _falsy(N, 2, 3)
    pieces = text.split("******")
    return len(pieces) == n and all(p.strip().lower() == prompt for p in pieces)


@checker
def CopySpanIdxChecker(text, *, prompt_to_repeat=None, n_start=None, n_end=None):
    prompt = _prompt(prompt_to_repeat)
    start = n_start if n_start else RNG.randint(0, len(prompt) - 2)  # empty range raises, as in Vero
    end = n_end if n_end else RNG.randint(start + 1, len(prompt) - 1)
    return text.strip().lower() == prompt[start:end].strip().lower()


@checker
def RepeatPhraseChecker(text, *, phrase=None, small_n=None):
    phrase = phrase.strip() if phrase else RNG.choice(PHRASES)
    n = _falsy(small_n, 2, 3)
    ref = phrase.split()
    size = len(ref)
    toks = re.findall(r"\w+", text)
    found = one_diff = 0
    for i in range(len(toks) - size + 1):
        window = toks[i : i + size]
        if window[0] == ref[0] and window[-1] == ref[-1]:
            diff = sum(1 for a, b in zip(window, ref, strict=True) if a != b)
            if diff >= 2:
                return False
            found += 1
            one_diff += diff == 1
    return found == n and one_diff == 1


_STAR_SPAN = r"\*[^\n\*]+\*"


@checker
def RephraseChecker(text, *, original_message=None):
    if not original_message or not re.search(_STAR_SPAN, original_message):
        raise ValueError("original_message needs a *span*")
    if not re.search(_STAR_SPAN, text):
        return False
    return re.sub(_STAR_SPAN, "", text) == re.sub(_STAR_SPAN, "", original_message)


@checker
def RephraseParagraph(text, *, original_paragraph, low, high):
    orig = Counter(re.findall(r"\w+", original_paragraph.lower()))
    got = Counter(re.findall(r"\w+", text.lower()))
    overlap = sum(min(c, got[w]) for w, c in orig.items())
    return low <= overlap <= high


@checker
def KeySentenceChecker(text, *, key_sentences=None, num_sentences=None):
    keys = list(key_sentences) if key_sentences else list(KEY_SENTENCES)
    n = num_sentences if num_sentences else RNG.randint(1, len(keys))
    present = set(sentences(text))
    return sum(1 for k in keys if k in present) == n


# 2.10 IFBench-style structure
@checker
def SentenceHyphenChecker(text):
    if "-" not in text:
        return False
    return all(p and p == p.strip() and len(sentences(p)) == 1 for p in text.split("-"))


@checker
def AdjacentLetterChecker(text):
    toks = text.split()
    return all(ord(b.lower()[0]) - ord(a.lower()[0]) != 1 for a, b in zip(toks, toks[1:], strict=False))


@checker
def SquareBracketChecker(text):
    return all(t.startswith("[") and t.endswith("]") for t in text.split())


@checker
def BiGramWrappingChecker(text):
    toks = text.split()
    if not toks or len(toks) % 2:
        return False
    for a, b in zip(toks[::2], toks[1::2], strict=True):
        if not (a.startswith("<<") and not a.endswith(">>") and b.endswith(">>") and not b.startswith("<<")):
            return False
    return True


@checker
def LetterCountingChecker(text, *, N=None, relation=None):
    n = _falsy(N, 2, 3)
    rel = relation if relation else RNG.choice(RELATIONS)
    count = len(re.findall(r"[A-Za-z]", text))
    if rel == "at least":
        return count >= n
    if rel == "less than":
        return count < n
    return False


@checker
def CountingCompositionChecker(text, *, n_sent=None, n_words=None):
    ns, nw = _falsy(n_sent, 2, 3), _falsy(n_words, 2, 3)
    pieces = re.split(r"\s?\*\*\*\s?", text)
    if _paragraph_count(pieces) is None:
        return False
    for p in pieces:
        sents = sentences(p)
        if len(sents) != ns or any(len(words(s)) != nw for s in sents):
            return False
    return sum(1 for p in pieces if p.strip()) == 3


@checker
def CountUniqueChecker(text):
    toks = words(text)
    return len(toks) == len(set(toks))


# 2.11 Vero additions (bounds inclusive, all required)
def _wc(text: str) -> int:
    return len(re.sub(r"[^\w\s.\-]", "", text).split())


@checker
def CheckWhetherResponseParagraphNumberInRange(text, *, lower_bound, upper_bound):
    return lower_bound <= len(paragraphs(clean(text))) <= upper_bound


@checker
def CheckWhetherResponseSentenceNumberInRange(text, *, lower_bound, upper_bound):
    return lower_bound <= len(sentences(clean(text))) <= upper_bound


@checker
def CheckWhetherEachParagraphSentenceNumberInRange(text, *, lower_bound, upper_bound):
    return all(lower_bound <= len(sentences(p)) <= upper_bound for p in paragraphs(clean(text)))


@checker
def CheckWhetherEachParagraphSentenceNumberInRangeList(text, *, ranges):
    if not ranges:
        raise ValueError("ranges is required")
    paras = paragraphs(clean(text))
    return len(paras) == len(ranges) and all(
        lo <= len(sentences(p)) <= hi for p, (lo, hi) in zip(paras, ranges, strict=True)
    )


@checker
def CheckWhetherResponseWordCountInRange(text, *, lower_bound, upper_bound):
    return lower_bound <= _wc(text) <= upper_bound


@checker
def CheckWhetherEachParagraphWordCountInRange(text, *, lower_bound, upper_bound):
    return all(lower_bound <= _wc(p) <= upper_bound for p in paragraphs(clean(text)))


@checker
def CheckWhetherWholeResponseNotContainCertainSubstrings(text, *, substrings=None):
    return not any(s in text for s in (substrings or ()))


@checker
def CheckWhetherWholeResponseNotContainCertainSubstring(text, *, substring):
    return substring not in text


@checker
def CheckWhetherEachSentenceBeginWithCertainSubstring(text, *, substring):
    return all(s.startswith(substring) for s in sentences(clean(text)))


@checker
def CheckWhetherEachSentenceEndWithCertainSubstring(text, *, substring):
    return all(s.endswith(substring) for s in sentences(clean(text)))


@checker
def CheckWhetherEachParagraphBeginWithCertainSubstring(text, *, substring):
    return all(p.startswith(substring) for p in paragraphs(clean(text)))


@checker
def CheckWhetherEachParagraphEndWithCertainSubstring(text, *, substring):
    return all(p.endswith(substring) for p in paragraphs(clean(text)))


@checker
def CheckWhetherWholeResponseBeginWithCertainSubstring(text, *, substring):
    return text.strip().startswith(substring)


@checker
def CheckWhetherWholeResponseEndWithCertainSubstring(text, *, substring):
    return text.strip().endswith(substring)


def _keyword_counts(text: str, keywords) -> list[int]:
    if not keywords:
        raise ValueError("keywords is required")
    low = clean(text).lower()
    return [len(re.findall(r"\b" + re.escape(k.lower()) + r"\b", low)) for k in keywords]


@checker
def CheckWhetherEachKeywordInListMetionedInRange(text, *, keywords, lower_bound_times, upper_bound_times):
    return all(lower_bound_times <= c <= upper_bound_times for c in _keyword_counts(text, keywords))


@checker
def CheckWhetherTotalKeywordInListMetionedInRange(text, *, keywords, lower_bound_times, upper_bound_times):
    return lower_bound_times <= sum(_keyword_counts(text, keywords)) <= upper_bound_times


@checker
def CheckPercentageNumberPrecisionInResponse(text, *, precision):
    for num in re.findall(r"(\d+(?:\.\d+)?)\s*%", text):
        if "." not in num or len(num.split(".")[1]) != precision:
            return False
    return True


_NUMBER = re.compile(r"(?<!\w)[+-]?(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+\.\d+|\.\d+|\d+)(?:[eE][+-]?\d+)?%?(?!\w)")


@checker
def CheckNumberPrecisionInResponse(text, *, precision):
    for m in _NUMBER.finditer(text):
        mantissa = m.group(1).replace(",", "")
        decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
        if decimals != precision:
            return False
    return True


@checker
def CheckWhetherHasNoArabicNumberInResponse(text):
    return re.search(r"\d", text) is None
