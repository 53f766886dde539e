"""Bounds on what sympy may evaluate, and a wall-clock budget that holds on every thread.

math-verify times itself out with ``signal.alarm``, which only works in the main thread; and no signal stops one long
C call (a 10^9-digit power, factorial or binomial holds the GIL until it is done). So reward parsing is bounded in two
ways that do not depend on the thread:

* **Sizes, before anything is evaluated.** :func:`text_refusal` rejects text too long or too deeply nested to parse;
  :func:`expr_refusal` walks a parsed expression and estimates how many digits an exact evaluation of any part of it
  could need (powers, power towers, factorials, binomials, Gamma, ``exp``, sums and products over huge ranges) and
  how high a polynomial degree it could expand to; :func:`guard_latex2sympy` puts the same estimate in front of the
  few places where latex2sympy evaluates *while* it parses (``\\binom``, ``\\Gamma``, gcd/lcm, matrix builders,
  ``|_{x=…}``), which would otherwise run before any walk could look.
* **Time, for what sizes cannot predict** (``simplify``, ``solve``, integrals on moderate inputs):
  :func:`call_bounded` gives a call a wall-clock budget. A watchdog thread raises :class:`Deadline` inside the calling thread when the
  budget runs out (``PyThreadState_SetAsyncExc``, the mechanism behind asynchronous exceptions), re-raising it every
  few milliseconds in case something swallowed it. Pure-Python work stops at its next bytecode; long C calls are
  what the size bounds prevent.

Both exceptions derive from ``BaseException`` (as math-verify's own ``TimeoutException`` does) so that the
``except Exception`` blocks in math-verify and sympy let them through to us.
"""

from __future__ import annotations

import math
import os
import re
import threading
import time
from collections.abc import Callable
from functools import lru_cache
from typing import Any, TypeVar

MAX_CHARS = 2_000  # text handed to math-verify; longer answers are not short final answers
MAX_NESTING = 50  # brackets open at once; ANTLR and sympy recurse once (or more) per level
MAX_ENV_PAIRS = 256  # (math environments opened + 1) × (\boxed + 1) in that text (16 × 16 costs ~30 ms)
MAX_DIGITS = 10_000  # digits any exact evaluation may reach: 2^{2024}, 1000!, \binom{1000}{500} all fit
MAX_DEGREE = 2_500  # polynomial degree in the free symbols (x^{2024} fits); dense polys allocate degree+1 slots
MAX_NODES = 20_000  # nodes in one parsed expression
MAX_MATRIX_CELLS = 2_500  # cells of a matrix built while parsing (eye, zeros, \begin{pmatrix})
BUDGET_S = 0.6  # wall-clock seconds for the sympy work of one reward call
REPEAT_S = 0.05  # a swallowed Deadline is raised again this often


class Refused(BaseException):
    """An input too large to evaluate within the bounds; parsing it gives nothing, as a timeout would in Vero."""


class Deadline(BaseException):
    """The call's wall-clock budget ran out (raised asynchronously in the calling thread by the watchdog)."""


# ------------------------------------------------------------------------------------------------ text pre-check
_BRACKET = re.compile(r"[{}()\[\]]")
# Matrices with elementary row operations evaluate products of entries while parsing; no final answer has them.
_REFUSED_COMMANDS = ("\\xrightarrow",)


def text_refusal(text: str) -> str | None:
    """Why ``text`` is not handed to math-verify at all (too long, too deeply nested), else None.

    >>> text_refusal("\\\\frac{1}{2}") is None, text_refusal("x" * 5000), text_refusal("{" * 60 + "}" * 60)
    (True, 'too_long', 'too_deep')
    """
    if len(text) > MAX_CHARS:
        return "too_long"
    depth = 0
    for m in _BRACKET.finditer(text):
        if m.group() in "{([":
            depth += 1
            if depth > MAX_NESTING:
                return "too_deep"
        elif depth:
            depth -= 1
    if any(c in text for c in _REFUSED_COMMANDS):
        return "refused_command"
    # math-verify's boxed-in-environment regexes backtrack over every (\( or \[, \boxed) pair: 200 of each in
    # 2,000 characters is over half a second in one uninterruptible regex call. Answers have a handful.
    if (text.count("\\(") + text.count("\\[") + 1) * (text.count("\\boxed") + 1) > MAX_ENV_PAIRS:
        return "too_many_environments"
    return None


# ------------------------------------------------------------------------------------------- expression estimate
# Each node gets an estimate (_Est):
#   d      digits an exact (or correctly rounded) evaluation of it can need, numerators, denominators and Float
#          precision included: what the bounds are checked against;
#   m      an upper bound on |log10 |value||: how large it is as an exponent, a factorial's argument, a range;
#   g      its polynomial degree in the free symbols;
#   sym    whether it has free symbols;
#   grows  whether it grows exponentially (or faster) in a symbol (2^k, k!, e^x), which matters once a sum,
#          product, limit or integral sets that symbol to its bound.
_LOG10_2 = math.log10(2)
_INF = float("inf")
# Functions whose exact value at n has about n·log10(n) digits (or needs that much work): factorial and friends.
_FACTORIAL_LIKE = frozenset(
    "factorial factorial2 subfactorial gamma uppergamma lowergamma loggamma digamma trigamma polygamma multigamma "
    "beta RisingFactorial FallingFactorial binomial harmonic fibonacci lucas tribonacci bernoulli euler catalan bell "
    "genocchi partition primorial prime primepi totient reduced_totient divisor_sigma divisor_count mobius "
    "primenu primeomega motzkin andre".split()
)
# Like exp: the value has about 0.43·|x| digits.
_EXP_LIKE = frozenset({"exp", "sinh", "cosh", "csch", "sech"})
# Values no larger than their arguments (or than 1): evaluating them takes about as many digits as the arguments.
_TAME = frozenset(
    "sin cos tan cot sec csc asin acos atan acot asec acsc atan2 tanh coth asinh acosh atanh acoth asech acsch Abs "
    "sign re im arg conjugate floor ceiling frac Min Max Mod Heaviside KroneckerDelta Piecewise ExprCondPair log "
    "UnevaluatedExpr".split()
)
_CALCULUS = frozenset({"Sum", "Product", "Integral", "Limit", "Derivative"})


def _digits_of_int(n: int) -> float:
    n = abs(n)
    return 0.0 if n <= 1 else math.log10(n)  # (exact for ints of any size)


def _magnitude(m: float) -> float:
    """10^m (an upper bound on |x| given m), inf when that overflows a float."""
    return _INF if m > 300 else 10.0**m


class _Est:
    __slots__ = ("d", "g", "grows", "m", "sym")

    def __init__(self, d: float, m: float, g: float = 0.0, sym: bool = False, grows: bool = False):
        self.d, self.m, self.g, self.sym, self.grows = d, m, g, sym, grows


@lru_cache(maxsize=1)
def _classes():
    import sympy
    from sympy.core.function import AppliedUndef
    from sympy.matrices import MatrixBase

    return sympy, AppliedUndef, MatrixBase


def expr_refusal(expr: Any) -> str | None:
    """Why evaluating ``expr`` (a parsed answer) could take unbounded time or memory, else None.

    Nothing is evaluated: the walk reads the tree and estimates, per node, the digits an exact evaluation could
    need and the polynomial degree an expansion could reach.

    >>> import sympy
    >>> expr_refusal(sympy.Pow(9, sympy.Mul(3, 333333333, evaluate=False), evaluate=False))
    'too_many_digits'
    >>> expr_refusal(sympy.factorial(99999999, evaluate=False)), expr_refusal(sympy.Pow(2, 2024, evaluate=False))
    ('too_many_digits', None)
    """
    sympy, applied_undef, matrix_base = _classes()
    if not isinstance(expr, sympy.Basic | matrix_base):
        return None
    memo: dict[int, _Est] = {}
    keep: list[Any] = []  # ids are unique only while their objects live
    stack: list[tuple[Any, bool]] = [(expr, False)]
    while stack:
        node, ready = stack.pop()
        key = id(node)
        if key in memo:
            continue
        kids = _children(node, matrix_base)
        if not ready:
            if len(memo) + len(stack) > MAX_NODES:
                return "too_large"
            stack.append((node, True))
            stack.extend((k, False) for k in kids if id(k) not in memo)
            continue
        est = _estimate(node, [memo[id(k)] for k in kids], sympy, applied_undef)
        if not est.d <= MAX_DIGITS:  # (also catches nan)
            return "too_many_digits"
        if not est.g <= MAX_DEGREE:
            return "degree_too_high"
        memo[key] = est
        keep.append(node)
    return None


def _children(node: Any, matrix_base: type) -> tuple:
    if isinstance(node, matrix_base) and not hasattr(node, "args"):
        return tuple(node)  # a mutable matrix: its cells
    args = getattr(node, "args", ())
    return args if isinstance(args, tuple) else ()


def _estimate(node: Any, kids: list[_Est], sympy, applied_undef) -> _Est:
    if not kids:
        return _leaf(node, sympy)
    name = type(node).__name__
    sym = any(k.sym for k in kids)
    grows = any(k.grows for k in kids)
    d_sum, m_sum = sum(k.d for k in kids), sum(k.m for k in kids)
    if isinstance(node, sympy.Add):  # |log| of a sum: cancellation can make it as small as the parts are fine
        return _Est(d_sum + math.log10(len(kids)), m_sum + math.log10(len(kids)), max(k.g for k in kids), sym, grows)
    if isinstance(node, sympy.Mul):
        return _Est(d_sum, m_sum, sum(k.g for k in kids), sym, grows)
    if isinstance(node, sympy.Pow) or name == "MatPow":
        return _power(node.args[1], kids[0], kids[1], sympy)
    if isinstance(node, applied_undef):  # f(x): an undefined function never evaluates
        return _Est(d_sum, m_sum, max(k.g for k in kids), sym, grows)
    if name in _EXP_LIKE and len(kids) == 1:
        a = kids[0]
        if a.sym:
            return _Est(a.d, a.m, a.g, True, True)
        size = 0.4343 * _magnitude(a.m)
        return _Est(size + a.d + 1, size)
    if name in _CALCULUS:
        return _calculus(name, kids)
    if name in _FACTORIAL_LIKE or (isinstance(node, sympy.Function) and name not in _TAME):
        # Any sympy function we do not model may evaluate at numeric arguments: treat it as factorial-like.
        return _factorial_like(node, kids, sympy)
    # Relations, sets, tuples, matrices, logic and tame functions combine their parts without growing them beyond
    # what solving or expanding the whole could (the sum of the parts).
    return _Est(d_sum, m_sum, max(k.g for k in kids), sym, grows)


def _leaf(node: Any, sympy) -> _Est:
    if isinstance(node, sympy.Integer):
        d = _digits_of_int(node.p)
        return _Est(d, d)
    if isinstance(node, sympy.Rational):
        p, q = _digits_of_int(node.p), _digits_of_int(node.q)
        return _Est(p + q, max(p, q))
    if isinstance(node, sympy.Float):
        mpf = node._mpf_  # (sign, mantissa, exponent, bits): the value is about 2^(exponent + bits)
        m = abs(mpf[2] + mpf[3]) * _LOG10_2 if mpf[1] else 0.0
        return _Est(m + node._prec * _LOG10_2, m)
    if isinstance(node, sympy.Symbol):
        return _Est(0, 0, 1, True)
    one = 1 if isinstance(node, sympy.NumberSymbol) else 0  # pi, E: below 10
    return _Est(one, one)


def _power(exponent: Any, b: _Est, e: _Est, sympy) -> _Est:
    if e.sym:  # x^y, 2^k: nothing to evaluate until a value is substituted; growth is flagged for sums/limits
        return _Est(b.d + e.d, b.m + e.m, b.g + e.g, True, b.grows or e.grows or b.m > 0 or b.sym)
    size = _magnitude(e.m)  # |exponent| ≤ 10^m
    if isinstance(exponent, sympy.Number):
        try:
            size = abs(float(exponent))
        except (TypeError, OverflowError):
            pass
        if not math.isfinite(size):
            size = 1.0  # x^oo, x^nan: sympy answers at once
    if b.d == 0 and not b.sym:  # 0, 1, -1, I to any power: nothing grows
        return _Est(e.d, 0)
    if size == _INF:
        return _Est(_INF, _INF)
    big = max(size, 1.0)  # a root is computed on the radicand: no smaller than it
    return _Est(b.d * big + e.d, b.m * size, b.g * big if b.sym else 0, b.sym, b.grows)


def _log10_factorial(n: float) -> float:
    return _INF if n == _INF else math.lgamma(n + 1) / math.log(10) + 1


def _factorial_like(node: Any, kids: list[_Est], sympy) -> _Est:
    if any(k.sym for k in kids):  # evaluates once the symbols get values (in a sum or product, say)
        return _Est(sum(k.d for k in kids), sum(k.m for k in kids), max(k.g for k in kids), True, True)
    args = node.args
    binomial = type(node).__name__ == "binomial" and len(args) == 2
    if binomial and all(isinstance(a, sympy.Integer) for a in args):
        n, k = abs(int(args[0])), abs(int(args[1]))
        k = min(k, n - k) if k <= n else k
        d = _log10_factorial(n) - _log10_factorial(n - k) - _log10_factorial(k) + 2 if k <= n else k * math.log10(n + 2)
        return _Est(d, d)
    if binomial:  # C(n, k) has at most min(n, k)·log10(n) digits
        n, k = _magnitude(kids[0].m), _magnitude(kids[1].m)
        d = _INF if n == _INF else min(n, k) * math.log10(n + 2) + 1
        return _Est(d + sum(k.d for k in kids), d)
    d = _log10_factorial(max(_magnitude(k.m) for k in kids))  # n! (Gamma, harmonic numbers… are no larger)
    return _Est(d + sum(k.d for k in kids), d)


def _calculus(name: str, kids: list[_Est]) -> _Est:
    """Sum/Product/Integral/Limit/Derivative: the body with its variable as large as the limits allow."""
    body, limits = kids[0], kids[1:]
    reach = max((k.m for k in limits), default=0.0)  # |log10| of the largest limit (or point, or order)
    sym = body.sym or any(k.sym for k in limits)
    g = (body.g + 1) * (1 + sum(k.g for k in limits))
    d_limits = sum(k.d for k in limits)
    span = _magnitude(reach)  # how large the variable (or the number of terms, or the order) can get
    if body.grows and reach > 0:  # 2^k summed to 10^9, k! multiplied out, e^x at a large point
        d = _INF if span == _INF else (body.d + 1) * span
        return _Est(d + d_limits, d, g, sym, True)
    if name == "Product":
        d = _INF if span == _INF else span * (body.d + body.g * reach + 1)
        return _Est(d + d_limits, d, g, sym, body.grows)
    if name == "Derivative" and span > MAX_DEGREE:
        return _Est(body.d, body.m, _INF, sym)  # differentiating 10^9 times is 10^9 steps
    d = body.d + (body.g + 1) * reach + reach + 1
    return _Est(d + d_limits, body.m + (body.g + 1) * reach + reach + 1, g, sym, body.grows)


# -------------------------------------------------------------------------- latex2sympy's parse-time evaluation
_GUARD = threading.local()


class guarding:  # lower case: used as a context manager, like ``open``
    """Within this block (on this thread) latex2sympy's evaluating calls refuse oversized arguments."""

    def __enter__(self) -> None:
        self._prev = getattr(_GUARD, "on", False)
        _GUARD.on = True

    def __exit__(self, *exc: object) -> None:
        _GUARD.on = self._prev


def _check(*values: Any) -> None:
    if getattr(_GUARD, "on", False):
        for v in values:
            reason = expr_refusal(v)
            if reason is not None:
                raise Refused(reason)


def _dims_ok(*dims: Any) -> None:
    if getattr(_GUARD, "on", False):
        cells = 1
        for x in dims:
            _check(x)
            try:
                cells *= max(int(x), 1)
            except Exception:
                continue
            if cells > MAX_MATRIX_CELLS:
                raise Refused("matrix_too_large")


class _GuardedSympy:
    """The ``sympy`` name inside latex2sympy2: the real module, with size checks before the calls that evaluate."""

    def __init__(self, real):
        self.__dict__["_real"] = real

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._real, name)
        self.__dict__[name] = value  # later lookups skip __getattr__
        return value

    def binomial(self, n, k):
        _check(n, k, self._real.binomial(n, k, evaluate=False))
        return self._real.binomial(n, k)

    def gamma(self, x):
        _check(x, self._real.gamma(x, evaluate=False))
        return self._real.gamma(x)

    def nsimplify(self, x, *args, **kwargs):
        _check(x)
        return self._real.nsimplify(x, *args, **kwargs)

    def gcd(self, *args, **kwargs):
        _check(*_flat(args))
        return self._real.gcd(*args, **kwargs)

    def lcm(self, *args, **kwargs):
        _check(*_flat(args))
        return self._real.lcm(*args, **kwargs)

    def eye(self, *dims, **kwargs):
        _dims_ok(*dims, *dims[:1])
        return self._real.eye(*dims, **kwargs)

    def zeros(self, *dims, **kwargs):
        _dims_ok(*dims)
        return self._real.zeros(*dims, **kwargs)

    def ones(self, *dims, **kwargs):
        _dims_ok(*dims)
        return self._real.ones(*dims, **kwargs)

    def diag(self, *values, **kwargs):
        _check(*values)
        if len(values) > MAX_MATRIX_CELLS:
            raise Refused("matrix_too_large")
        return self._real.diag(*values, **kwargs)


def _flat(args: tuple) -> list:
    out = []
    for a in args:
        out.extend(_flat(tuple(a)) if isinstance(a, list | tuple) else [a])
    return out


def guard_latex2sympy() -> None:
    """Install the parse-time guards into latex2sympy2 (once; inert outside :class:`guarding` blocks)."""
    from latex2sympy2_extended import latex2sympy2 as l2s

    if isinstance(l2s.sympy, _GuardedSympy):
        return
    l2s.sympy = _GuardedSympy(l2s.sympy)
    converter = l2s._Latex2Sympy
    original_subs = converter.do_subs
    original_matrix = converter.convert_matrix

    def do_subs(self, expr, at):
        # ``f|_{x=a}`` substitutes with evaluation: look at the unevaluated result first.
        if getattr(_GUARD, "on", False):
            with l2s.sympy._real.evaluate(False):
                preview = original_subs(self, expr, at)
            _check(preview)
        return original_subs(self, expr, at)

    def convert_matrix(self, matrix):
        # Building the matrix evaluates nothing; ``\\det``, rank, eigenvalues… on it would. Check the cells first.
        mat = original_matrix(self, matrix)
        if getattr(_GUARD, "on", False):
            if getattr(mat, "rows", 0) * getattr(mat, "cols", 0) > MAX_MATRIX_CELLS:
                raise Refused("matrix_too_large")
            _check(mat)
        return mat

    converter.do_subs = do_subs
    converter.convert_matrix = convert_matrix


# ----------------------------------------------------------------------------------------- the wall-clock budget
class _Section:
    __slots__ = ("active", "clear_args", "deadline", "inject_args")

    def __init__(self, deadline: float, inject_args: tuple, clear_args: tuple):
        self.active = True
        self.deadline = deadline
        self.inject_args = inject_args
        self.clear_args = clear_args


_TLS = threading.local()  # .section: the outermost bounded call on this thread; .args: its ctypes arguments
_SECTIONS: set[_Section] = set()
# Held by the watchdog from "is this section still active?" to the injection, and by the owner from "not active" to
# clearing a pending Deadline: without it the owner could leave between the watchdog's test and its injection, and
# the Deadline would surface after the call (seen under load).
_INJECT = threading.Lock()
# The watchdog thread and what it waits on; replaced in a forked child, where the old thread no longer runs.
_STATE: dict[str, Any] = {"watchdog": None, "wake": threading.Event(), "start": threading.Lock()}


@lru_cache(maxsize=1)
def _ctypes():
    """ctypes and ``PyThreadState_SetAsyncExc``; None where that is unavailable (not CPython)."""
    try:
        import ctypes

        return ctypes, ctypes.pythonapi.PyThreadState_SetAsyncExc
    except (ImportError, AttributeError):
        return None


def _watch(wake: threading.Event) -> None:
    _, set_async = _ctypes()
    while True:
        wake.clear()
        if not _SECTIONS:
            wake.wait()
            continue
        now = time.monotonic()
        nxt = now + REPEAT_S
        for sec in list(_SECTIONS):
            if sec.deadline <= now:
                with _INJECT:  # the owner cannot leave its section between this test and the injection
                    if sec.active:
                        set_async(*sec.inject_args)
                sec.deadline = now + REPEAT_S
            nxt = min(nxt, sec.deadline)
        time.sleep(min(max(nxt - time.monotonic(), 0.002), REPEAT_S))


def _ensure_watchdog() -> None:
    t = _STATE["watchdog"]
    if t is not None and t.is_alive():
        return
    with _STATE["start"]:
        t = _STATE["watchdog"]
        if t is None or not t.is_alive():
            t = threading.Thread(target=_watch, args=(_STATE["wake"],), name="vero-reward-watchdog", daemon=True)
            t.start()
            _STATE["watchdog"] = t


def _after_fork() -> None:
    global _INJECT
    _INJECT = threading.Lock()  # a lock held by the parent's watchdog at fork time would never be released
    _SECTIONS.clear()
    _STATE.update(watchdog=None, wake=threading.Event(), start=threading.Lock())
    _TLS.__dict__.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)

T = TypeVar("T")


def call_bounded(fn: Callable[[], T], default: T, budget: float = BUDGET_S) -> T:
    """``fn()`` with a wall-clock budget of ``budget`` seconds; ``default`` when it runs out.

    Only the outermost call on a thread owns a budget and catches :class:`Deadline`; nested calls let it propagate,
    so no cache between them stores an interrupted result.
    """
    api = _ctypes()
    if api is None or getattr(_TLS, "section", None) is not None:
        return fn()
    _ensure_watchdog()
    args = getattr(_TLS, "args", None)
    if args is None:
        ctypes, set_async = api
        tid = ctypes.c_ulong(threading.get_ident())
        args = _TLS.args = (set_async, (tid, ctypes.py_object(Deadline)), (tid, None))  # None: NULL, clears
    set_async, inject_args, clear_args = args
    sec = _Section(time.monotonic() + budget, inject_args, clear_args)
    out = default
    expired = False
    try:
        _TLS.section = sec
        _SECTIONS.add(sec)
        wake = _STATE["wake"]
        if not wake.is_set():
            wake.set()
        out = fn()
    except Deadline:
        expired = True
    finally:
        # Close the section so that no Deadline surfaces after it. Inline, not in a helper: CPython delivers an async
        # exception only where it checks its eval breaker (a function's entry, a backward jump, after a call
        # returns), and a helper's entry would be such a point outside any handler. Here the first check is after
        # the clearing call returns, by which time nothing is pending: the watchdog injects only under _INJECT and
        # only into an active section, and we hold _INJECT while marking this one inactive and clearing.
        with _INJECT:
            sec.active = False
            set_async(*clear_args)
        _SECTIONS.discard(sec)
        _TLS.section = None
    if expired:
        _TLS.expired = True
    return out


class paused:  # lower case: used as a context manager, like ``open``
    """Within this block the enclosing bounded call's budget stops counting: for slow first-use imports (math-verify,
    NLTK), which an interruption would leave half-initialised."""

    def __enter__(self) -> None:
        sec = getattr(_TLS, "section", None)
        self._sec = sec if sec is not None and sec.active else None  # (an enclosing pause keeps its own)
        if self._sec is not None:
            with _INJECT:  # as when a bounded call ends (see call_bounded): no Deadline lands inside the pause
                sec.active = False
                _TLS.args[0](*sec.clear_args)  # drop a Deadline raised but not yet delivered
            self._t0 = time.monotonic()

    def __exit__(self, *exc: object) -> None:
        sec = self._sec
        if sec is not None:
            sec.deadline += time.monotonic() - self._t0
            sec.active = True


def take_expired() -> bool:
    """Whether a bounded call on this thread ran out of time since the last check (and reset the flag)."""
    expired = getattr(_TLS, "expired", False)
    _TLS.expired = False
    return expired
