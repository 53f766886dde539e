"""Import cycles: every module imports in a fresh interpreter in several orders, and a static (ast) check lists the
cycles between vero modules, at module level and through function-level imports.

Run ``python tests/test_import_graph.py`` to print the cycles. A function-level import that keeps a heavy library
(torch, transformers, vllm, ray…) out of ``vero --help`` is not a cycle: only imports of vero modules make edges.
"""

from __future__ import annotations

import ast
import random
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGES = ("vero_data", "vero_train")


def module_names() -> list[str]:
    out = []
    for pkg in PACKAGES:
        for p in sorted((SRC / pkg).rglob("*.py")):
            parts = p.relative_to(SRC).with_suffix("").parts
            out.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return out


def _path(module: str) -> Path:
    p = SRC.joinpath(*module.split("."))
    return p / "__init__.py" if p.is_dir() else p.with_suffix(".py")


def _is_type_checking(node: ast.If) -> bool:
    t = node.test
    return (isinstance(t, ast.Name) and t.id == "TYPE_CHECKING") or (
        isinstance(t, ast.Attribute) and t.attr == "TYPE_CHECKING")


def _imports(module: str, modules: set[str], function_level: bool) -> set[str]:
    """The vero modules ``module`` imports: at module level only, or (``function_level``) anywhere but under
    ``if TYPE_CHECKING``. ``from pkg import name`` names the submodule ``pkg.name`` when there is one."""
    tree = ast.parse(_path(module).read_text())
    is_pkg = _path(module).name == "__init__.py"
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for sub in child.orelse:
                    visit_stmt(sub)
                continue
            visit_stmt(child)

    def visit_stmt(child: ast.AST) -> None:
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) and not function_level:
            return
        if isinstance(child, ast.Import):
            found.update(a.name for a in child.names)
        elif isinstance(child, ast.ImportFrom):
            base = child.module or ""
            if child.level:
                here = module.split(".") if is_pkg else module.split(".")[:-1]
                base = ".".join(here[: len(here) - child.level + 1] + ([base] if base else []))
            for a in child.names:
                found.add(f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base)
        visit(child)

    visit(tree)
    return {m for m in found if m in modules and m != module}


def import_cycles(function_level: bool = False) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted, the list sorted."""
    modules = set(module_names())
    graph = {m: _imports(m, modules, function_level) for m in sorted(modules)}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def strongconnect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                strongconnect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            strongconnect(v)
    return sorted(out)


def test_no_module_level_cycle():
    assert import_cycles() == []


def test_no_cycle_even_via_function_level_imports():
    """Issue 14 broke the last ones by moving shared pieces to leaf modules (``benchmarks.doc_fields``,
    ``passk.inputs.Chunk``) and passing the function to run instead of importing it (``executors.run_tasks``,
    ``passk.data_parallel``); a function-level import that hides a cycle fails here."""
    assert import_cycles(function_level=True) == []


_IMPORT_ALL = """
import importlib, sys
skipped = []
for name in sys.argv[1:]:
    try:
        importlib.import_module(name)
    except ModuleNotFoundError as e:  # an optional dependency (vllm, ray…) this install lacks
        if (e.name or "").split(".")[0] in ("vero_data", "vero_train"):
            raise
        skipped.append(f"{name} ({e.name})")
print("skipped:", skipped)
"""


@pytest.mark.parametrize("order", ["sorted", "reversed", "shuffled"])
def test_every_module_imports_in_a_fresh_interpreter(order):
    names = module_names()
    if order == "reversed":
        names.reverse()
    elif order == "shuffled":
        random.Random(14).shuffle(names)
    res = subprocess.run([sys.executable, "-c", _IMPORT_ALL, *names], capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]


@pytest.mark.parametrize("first", ["vero_data.manifest", "vero_data.sources.base", "vero_data.sources.readers",
                                   "vero_data.sources.generators.gallery", "vero_data.sources.checks",
                                   "vero_train.models.backends.hf", "vero_train.models.warmup",
                                   "vero_train.models.tiny", "vero_train.models.chat",
                                   "vero_data.benchmarks.prompts", "vero_data.benchmarks.judged", "vero_data.config",
                                   "vero_data.executors", "vero_train.passk.data_parallel",
                                   "vero_train.passk.ray_pool"])
def test_leaf_of_a_former_cycle_imports_first(first):
    subprocess.run([sys.executable, "-c", f"import {first}"], check=True, timeout=300)


if __name__ == "__main__":
    for label, fl in (("module level", False), ("with function-level imports", True)):
        cycles = import_cycles(function_level=fl)
        print(f"{label}: {len(cycles)} cycle(s)")
        for c in cycles:
            print("  " + " <-> ".join(c))
