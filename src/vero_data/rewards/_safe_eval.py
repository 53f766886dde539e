"""A tiny arithmetic evaluator over ``ast`` nodes: numbers, + - * / ** (``^`` too), a few constants and functions.

Vero's tolerance mode calls ``sympy.sympify`` (which ``eval``s) on the raw answer; this stands in for it on the
inputs that matter (``1/4``, ``2^10``, ``sqrt(2)``, ``3*pi``) without executing anything.
"""

from __future__ import annotations

import ast
import math
import operator

MAX_EXPR_CHARS = 200
_BIN = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}
_NAMES = {"pi": math.pi, "E": math.e, "oo": math.inf}
_FUNCS = {"sqrt": math.sqrt, "exp": math.exp, "log": math.log, "sin": math.sin, "cos": math.cos, "tan": math.tan}


def safe_float(text: str) -> float | None:
    """Evaluate a plain arithmetic expression to a float, or None.

    >>> safe_float("2^10"), safe_float("1/4"), safe_float("__import__('os')")
    (1024.0, 0.25, None)
    """
    if len(text) > MAX_EXPR_CHARS:
        return None
    try:
        tree = ast.parse(text.strip().replace("^", "**"), mode="eval")
        value = _eval(tree.body, 0)
        return float(value)
    except Exception:
        return None


def _eval(node: ast.AST, depth: int) -> float:
    if depth > 30:
        raise ValueError("too deep")
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float) and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        v = _eval(node.operand, depth + 1)
        return -v if isinstance(node.op, ast.USub) else v
    if isinstance(node, ast.BinOp):
        a, b = _eval(node.left, depth + 1), _eval(node.right, depth + 1)
        if isinstance(node.op, ast.Pow):
            if abs(b) > 1024 or abs(a) > 1e100:
                raise ValueError("exponent too large")
            return float(a) ** float(b)
        op = _BIN.get(type(node.op))
        if op is None:
            raise ValueError("operator")
        return op(float(a), float(b)) if isinstance(node.op, ast.Div) else op(a, b)
    if isinstance(node, ast.Name) and node.id in _NAMES:
        return _NAMES[node.id]
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in _FUNCS
        and len(node.args) == 1
        and not node.keywords
    ):
        return _FUNCS[node.func.id](_eval(node.args[0], depth + 1))
    raise ValueError("unsupported")
