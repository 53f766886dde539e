"""The size bounds and the wall-clock budget behind math-verify (vero_data.rewards._limits)."""

import threading
import time

import pytest

from vero_data.rewards import _limits, _mv, score_response
from vero_data.rewards.numeric import numeric

# Answers people write: nothing here may be refused (the parity tables check the verdicts).
ORDINARY = [r"2^{2024}", r"2^{2023}-1", r"1000!", r"\binom{1000}{500}", r"\binom{10^{100}}{2}", r"e^{0.5}", r"e^{i\pi}",
            r"x^{2024}", r"\sqrt[1000000]{2}", r"\frac{1}{3^{5000}}", r"10^{-20}", r"\Gamma(\frac{1}{2})", r"0.5^{-3}",
            r"\sum_{k=1}^{10^9} k^2", r"\prod_{k=1}^{100} k", r"\sin(10^{100})", r"(-1)^{10^{20}}", r"2^{\infty}",
            r"\begin{pmatrix}1&2\\3&4\end{pmatrix}", r"\{1, 2, 3\}", r"[1, 2)", r"x = 5", r"\frac{\sqrt{3}}{2}"]
# Answers whose evaluation could need millions of digits (or a degree-10^9 polynomial).
HUGE = [r"9^{3 \cdot 333333333}", r"(99999999)!", r"10^{10^{10}}", r"2^{2^{2^{2^{2}}}}", r"e^{10^9}", r"1.5^{10^9}",
        r"x^{999999999}", r"\sum_{k=1}^{10^9} 2^k", r"\prod_{k=1}^{10^8} k", r"\int_0^{10^{100}} x^{1000} dx",
        r"\cosh(10^9)", r"5000!", r"9^{9^{9}} - 9^{9^{9}}"]
# Evaluated while latex2sympy parses: refused before that, so the parse gives nothing.
EVALUATED_WHILE_PARSING = [r"\binom{100000000}{50000000}", r"\Gamma(99999999)", r"\gcd(9^{9^9}, 6)",
                           r"\operatorname{zeros}(100000, 100000)", r"x^{2}|_{x=9^{9^9}}",
                           r"\det\begin{pmatrix} 9^{9^9} & 2 \\ 3 & 9^{9^9} \end{pmatrix}"]


def _parsed(text):
    return [x for x in _mv.parse(f"${text}$", _mv.default_targets()) if not isinstance(x, str)]


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_answers_are_not_refused(text):
    got = _parsed(text)
    assert got and not any(isinstance(x, _mv.Opaque) for x in got), got


@pytest.mark.parametrize("text", HUGE)
def test_huge_answers_are_opaque(text):
    got = _parsed(text)
    assert got and all(isinstance(x, _mv.Opaque) for x in got), got


@pytest.mark.parametrize("text", EVALUATED_WHILE_PARSING)
def test_evaluation_while_parsing_is_refused(text):
    assert _parsed(text) == []


@pytest.mark.parametrize("text,reason", [("x" * 3000, "too_long"), ("{" * 60 + "}" * 60, "too_deep"),
                                         ("\\(\\boxed{" * 20, "too_many_environments"),
                                         (r"\begin{pmatrix}1\end{pmatrix}\xrightarrow{r_1}", "refused_command")])
def test_text_refusals(text, reason):
    assert _limits.text_refusal(text) == reason


def test_an_opaque_answer_still_matches_itself():
    """Structural equality is math-verify's first check: Vero verifies an identical answer before any evaluation."""
    assert numeric(r"$9^{3 \cdot 333333333}$", r"$9^{3 \cdot 333333333}$") == 1.0
    assert numeric(r"$9^{3 \cdot 333333333}$", r"$9^{3 \cdot 333333334}$") == 0.0


def test_guards_are_inert_outside_our_parse():
    """Other users of latex2sympy in the process (TRL's accuracy reward, say) see its usual behaviour."""
    from latex2sympy2_extended.latex2sympy2 import latex2sympy

    _mv.load()
    assert latex2sympy(r"\binom{40}{20}") == 137846528820


def _spin(seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass
    return "finished"


def test_budget_interrupts_python_work_on_any_thread():
    results = []
    t = threading.Thread(target=lambda: results.append(_limits.call_bounded(lambda: _spin(30), "stopped", 0.1)))
    t.start()
    t.join(10)
    assert not t.is_alive() and results == ["stopped"]
    assert _limits.call_bounded(lambda: _spin(30), "stopped", 0.1) == "stopped"  # the main thread too
    assert _limits.call_bounded(lambda: _spin(0), "stopped", 5) == "finished"


def test_nested_calls_share_the_outer_budget_and_let_it_propagate():
    seen = []

    def inner():
        try:
            return _limits.call_bounded(lambda: _spin(30), "inner default", 10)
        except _limits.Deadline:
            seen.append("propagated")
            raise

    assert _limits.call_bounded(inner, "outer default", 0.1) == "outer default"
    assert seen == ["propagated"]


def test_a_swallowed_deadline_is_raised_again():
    def stubborn():
        for _ in range(3):
            try:
                _spin(30)
            except _limits.Deadline:
                pass  # code that catches everything
        return "gave up swallowing"

    assert _limits.call_bounded(stubborn, "stopped", 0.05) == "gave up swallowing"


def test_no_deadline_escapes_a_bounded_call():
    """Calls ending right at their budget, on several threads: the Deadline never surfaces after the call. Thread
    switches every microsecond make the watchdog's test-then-inject race the owner's leaving (seen once in CI)."""
    import sys

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    escaped = []

    def worker(seed):
        for i in range(400):
            try:
                _limits.call_bounded(lambda i=i: _spin(0.001 * ((i + seed) % 7)), None, 0.003)
                _spin(0.0005)
            except _limits.Deadline:
                escaped.append(seed)

    threads = [threading.Thread(target=worker, args=(s,)) for s in range(6)]
    for t in threads:
        t.start()
    try:
        for t in threads:
            t.join(60)
    finally:
        sys.setswitchinterval(old)
    assert not escaped


def test_paused_time_is_not_charged():
    def slow_import_then_work():
        with _limits.paused():
            _spin(0.3)  # longer than the budget
        return "finished"

    assert _limits.call_bounded(slow_import_then_work, "stopped", 0.2) == "finished"


def test_timeout_has_a_reason():
    r = score_response(r"<think>x</think><answer>\boxed{(x+1)^{999}}</answer>", "7", {"reward_type": "mystery"})
    assert (r.accuracy, r.reason) == (0.0, "timeout")
