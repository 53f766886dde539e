"""The sympy-free fast paths must give math-verify's verdict bit for bit (randomised, seeded)."""

import random

import pytest

from vero_data.rewards import _mv
from vero_data.rewards import numeric as N

EDGE = ["0", "-0", "0.0", "00", ".5", "-.5", "0.5", "1", "1.0", "1.000000", "0.000001", "0.0000001", "1.5",
        "01.50", "1,000", "1,234.5", "12,345,678", "-1,000.25", "999999999999999", "123456789012345.0",
        "0.100000000000000", "1e3", "12,34", "$5$", "$-3.25$", "$1,234$", "$5", "-$5$"]


def _number(rng: random.Random) -> str:
    k = rng.random()
    if k < 0.3:
        return str(rng.randint(-(10 ** rng.randint(0, 15)), 10 ** rng.randint(0, 15)))
    if k < 0.7:
        return f"{rng.uniform(-(10 ** rng.randint(0, 8)), 10 ** rng.randint(0, 8)):.{rng.randint(0, 9)}f}"
    if k < 0.8:
        return repr(rng.uniform(-1000, 1000))
    return rng.choice(EDGE)


def _form(rng: random.Random, v: str) -> str:
    r = rng.random()
    if r < 0.6 or "," in v or "$" in v:
        return v
    if r < 0.8:
        return f"${v}$"
    neg, body = v.startswith("-"), v.lstrip("-")
    head, _, frac = body.partition(".")
    if not head.isdigit():
        return v
    return ("-" if neg else "") + f"{int(head):,}" + ("." + frac if frac else "")


def _variant(rng: random.Random, v: str) -> str:
    r = rng.random()
    if r < 0.3:
        return v
    if r < 0.5:
        return v + "0" if "." in v else v + ".0"
    if r < 0.7:
        try:
            d = float(v.replace(",", "").strip("$"))
        except ValueError:
            return v
        return repr(d + rng.choice([1e-7, 1e-6, 5e-7, 2e-5, 1e-4, 1, -1, 0.1]))
    return _number(rng)


def _pairs(n: int, seed: int):
    rng = random.Random(seed)
    for _ in range(n):
        a = _number(rng)
        g, p = _form(rng, a), _form(rng, _variant(rng, a))
        yield (p, g) if rng.random() < 0.5 else (g, p)


def _slow_candidates(text: str) -> tuple[float, ...]:
    found = [] if N._to_float(text) is None else [N._to_float(text)]
    found += [x for x in map(N._to_float, _mv.parse(text, _mv.numeric_targets())) if x is not None]
    unique: list[float] = []
    for x in found:
        if not any(abs(x - u) <= 1e-12 for u in unique):
            unique.append(x)
    return tuple(unique)


@pytest.mark.parametrize("seed", [0, 1])
def test_simple_number_verdict_matches_math_verify(seed):
    decided = 0
    for gold, pred in _pairs(250, seed):
        fast = N.simple_verdict(gold, pred)
        if fast is None:
            continue
        decided += 1
        g, p = _mv.parse(gold, _mv.numeric_targets()), _mv.parse(pred, _mv.numeric_targets())
        slow = bool(g) and bool(p) and _mv.verify(g, p)
        assert fast == slow, (gold, pred)
    assert decided > 150


@pytest.mark.parametrize("text", EDGE)
def test_edge_verdicts_match_math_verify(text):
    for other in EDGE:
        fast = N.simple_verdict(text, other)
        if fast is not None:
            g, p = _mv.parse(text, _mv.numeric_targets()), _mv.parse(other, _mv.numeric_targets())
            assert fast == (bool(g) and bool(p) and _mv.verify(g, p)), (text, other)


def test_simple_number_candidates_match_math_verify():
    rng = random.Random(5)
    texts = EDGE + [_form(rng, _number(rng)) for _ in range(300)]
    for t in texts:
        if N.simple_number(t) is not None and not N._PLAIN_NUMBER.fullmatch(t):
            N.candidates.cache_clear()
            assert N.candidates(t) == _slow_candidates(t), t


def test_decorated_numbers_parse_like_the_bare_number():
    rng = random.Random(11)
    words = ["units", "apples", "cm", "degrees", "meters", "is", "pi", "e", "sin", "dollars", "kg", "items"]
    checked = 0
    for _ in range(150):
        n = rng.choice([str(rng.randint(-5000, 5000)), f"{rng.uniform(-1000, 1000):.{rng.randint(1, 6)}f}",
                        "0", "-0", "0.5", "0.25", "1"])
        r = rng.random()
        if r < 0.3:
            t = f"{rng.choice('xyzaXn')}{rng.choice(['=', ' = ', ' ='])}{n}"
        elif r < 0.6:
            t = f"{n} {rng.choice(words)}"
        elif r < 0.8:
            t = rng.choice(["The answer is ", "the final answer is ", "The answer is: "]) + n
        else:
            t = rng.choice(["x = ", "The final answer is "]) + f"{n} {rng.choice(words)}"
        if N.simple_number(t) is None:
            continue
        checked += 1
        assert N.simple_number(t) == N.simple_number(n)
        for targets in (_mv.numeric_targets(), _mv.default_targets()):
            assert _mv.parse(t, targets) == _mv.parse(n, targets), t
        N.candidates.cache_clear()
        assert N.candidates(t) == _slow_candidates(t), t
    assert checked > 80


def test_simple_numbers_parse_alike_under_fallback_targets():
    rng = random.Random(3)
    texts = EDGE + [_form(rng, _number(rng)) for _ in range(120)] + ["x = 5", "12.5 units", "y=-3"]
    for t in texts:
        if N.simple_number(t) is not None:
            assert _mv.parse(t, _mv.default_targets(), timeout=1) == _mv.parse(t, _mv.numeric_targets()), t


def test_fallback_fast_verdict_matches_slow_path(monkeypatch):
    from vero_data.rewards import fallback

    pairs = list(_pairs(120, 9))
    fast = [fallback._verdict(p, g) for g, p in pairs]
    monkeypatch.setattr(N, "simple_verdict", lambda gold, pred: None)
    assert fast == [fallback._verdict(p, g) for g, p in pairs]


@pytest.mark.parametrize(
    ("gold", "pred"),
    [
        ("-6883242050322.4296875", "-6883242050322.43"),  # 53-bit Floats merge these: math-verify says equal
        ("123.57345000000001", "123.57345"),
        ("123456789012345", "123456789012345.0"),
        ("0.30000000000000004", "0.3"),
        ("$1,234.5$", "1234.50"),
    ],
)
def test_long_and_large_numbers_match_math_verify(gold, pred):
    g, p = _mv.parse(gold, _mv.numeric_targets()), _mv.parse(pred, _mv.numeric_targets())
    slow = bool(g) and bool(p) and _mv.verify(g, p)
    assert N.simple_verdict(gold, pred) in (None, slow)
    assert N.exact_equal(gold, pred) == slow


def test_large_magnitude_verdicts_match_math_verify():
    rng = random.Random(21)
    for _ in range(150):
        mag = 10 ** rng.randint(6, 14)
        a = rng.uniform(-mag, mag)
        b = a + mag * rng.choice([1e-16, 1e-14, 1e-13, 1e-12, 3e-12, 1e-10, 1e-6])
        ga = rng.choice([repr(a), f"{a:.{rng.randint(0, 8)}f}"])
        pb = rng.choice([repr(b), f"{b:.{rng.randint(0, 8)}f}", ga + "0"])
        fast = N.simple_verdict(ga, pb)
        if fast is not None:
            g, p = _mv.parse(ga, _mv.numeric_targets()), _mv.parse(pb, _mv.numeric_targets())
            assert fast == (bool(g) and bool(p) and _mv.verify(g, p)), (ga, pb)


@pytest.mark.parametrize("inline_draws", [True, False])
def test_numpy_langdetect_gives_langdetects_probabilities(inline_draws, monkeypatch):
    from langdetect import DetectorFactory, detector_factory

    from vero_data.rewards.ifeval import _langdetect

    monkeypatch.setattr(_langdetect, "_INLINE_CHOICE", inline_draws and _langdetect._INLINE_CHOICE)
    DetectorFactory.seed = 0
    factory = _langdetect._factory()
    rng = random.Random(2)
    words = "the quick brown fox jumps over lazy dog le chat est noir der Hund ist braun el perro es rojo".split()
    texts = ["Bonjour tout le monde, comment allez-vous?", "Das ist ein Test.", "这是一个测试", "hola", "a", "123",
             "Привет мир", "The quick brown fox."] + [" ".join(rng.choices(words, k=rng.randint(1, 40))) for _ in range(40)]
    for t in texts:
        out = []
        for fast in (False, True):
            d = factory.create()
            d.append(t)
            if fast:
                d._detect_block = _langdetect._detect_block.__get__(d)
            try:
                out.append([(x.lang, x.prob) for x in d.get_probabilities()])
            except Exception as e:  # noqa: BLE001 - the same exception either way
                out.append(type(e).__name__)
        assert out[0] == out[1], t
    assert detector_factory._factory is factory


def test_e_notation_parses_as_its_mantissa_and_verdicts_match():
    import re

    rng = random.Random(4)
    for _ in range(120):
        v = rng.choice([rng.uniform(-1e4, 1e4), rng.uniform(-1, 1), rng.randint(-5000, 5000), rng.uniform(-1e-3, 1e-3)])
        t = rng.choice([f"{v:e}", f"{v:.2e}", f"{v:E}", f"{v:.0e}", f"{rng.randint(0, 99)}e{rng.randint(0, 12)}"])
        mant = re.fullmatch(r"(-?\d+(?:\.\d+)?)[eE][+-]?\d+", t).group(1)
        for targets in (_mv.numeric_targets(), _mv.default_targets()):
            assert _mv.parse(t, targets) == _mv.parse(mant, targets), t
        other = rng.choice([mant, repr(v), f"{v:.3f}", str(int(v)), t])
        fast = N.simple_verdict(other, t)
        if fast is not None:
            g, p = _mv.parse(other, _mv.numeric_targets()), _mv.parse(t, _mv.numeric_targets())
            assert fast == (bool(g) and bool(p) and _mv.verify(g, p)), (other, t)
        N.candidates.cache_clear()
        assert N.candidates(t) == _slow_candidates(t), t  # the tolerance path still reads float(t) too


def test_instruction_rng_reseeds_only_when_drawn_from():
    from vero_data.rewards.ifeval.checkers import RNG

    for draw in (lambda r: r.choice(range(100)), lambda r: r.sample(range(50), 3), lambda r: r.random(),
                 lambda r: r.randint(1, 20), lambda r: r.gauss(0.0, 1.0), lambda r: r.uniform(0, 1)):
        RNG.seed_zero()
        first = [draw(RNG) for _ in range(3)]
        RNG.seed_zero()
        assert [draw(RNG) for _ in range(3)] == first
        ref = random.Random(0)
        assert first == [draw(ref) for _ in range(3)]
    RNG.seed(5)
    RNG.seed_zero()
    assert RNG.random() == random.Random(0).random()


def test_instruction_checkers_leave_the_global_rng_alone():
    import json

    from vero_data.rewards.ifeval import checkers
    from vero_data.rewards.ifeval.driver import score_instructions

    items = [{"class": name, "args": {}} for name in sorted(checkers.CHECKERS)]
    random.seed(123)
    before = random.getstate()
    for text in ("Hello world. This is a test, with some words!", "Bonjour tout le monde", "P.S. ok\n\n***\n\nend"):
        score_instructions(text, json.dumps({"instructions": items}))
    assert random.getstate() == before


def test_structural_verdict_cache_matches_math_verify():
    texts = ["0.25", r"\frac{1}{4}", "1/4", "25%", r"25\%", ".25", "0.250", "0.2500001", "x = 0.25", "0.25 units",
             "5", "x = 5", "5 apples", "5.0", r"\sqrt{25}", "y = 6", "1e3", "1000", "1,000", r"10^3", "-2", "−2",
             r"90^\circ", "90", "2/3", "0.666667", "0.6666667", r"\pi", "3.14", "abc", "C", "(C)", "Paris", "London",
             r"2\sqrt{2}", "2.8284271", r"\boxed{0.5}", "0.5", "The answer is 0.5", r"\{1, 2\}", "(1, 2)", "x > 1"]
    parsed = {t: _mv.parse(t, _mv.default_targets(), timeout=1) for t in texts}
    _mv._VERDICTS.clear()
    for _ in range(2):  # cold, then from the cache
        for g in texts:
            for p in texts:
                if parsed[g] and parsed[p]:
                    assert _mv.verify(parsed[g], parsed[p], timeout=1) == _mv._verify(parsed[g], parsed[p]), (g, p)


def test_long_decimal_and_e_notation_candidates_match_slow_path():
    rng = random.Random(8)
    texts = ["0.000000e+00", "-0.000000e+00", "1e3", "2.5E-3", "0.30000000000000004", "-0.1000000000000000055"]
    for _ in range(300):
        v = rng.choice([rng.uniform(-1000, 1000), rng.uniform(-1, 1), rng.uniform(-1e-6, 1e-6)])
        texts.append(rng.choice([repr(v), f"{v:.{rng.randint(10, 19)}f}", f"{v:e}", f"{v:.12e}"]))
    for t in texts:
        N.candidates.cache_clear()
        assert N.candidates(t) == _slow_candidates(t), t
