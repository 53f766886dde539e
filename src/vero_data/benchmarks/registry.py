"""Benchmark and suite YAMLs → validated specs, by lmms-eval task name or the paper's display name."""

from __future__ import annotations

from functools import cache, lru_cache
from pathlib import Path

from pydantic import ValidationError

from vero_data.benchmarks.spec import BenchmarkSpec, SuiteSpec
from vero_data.errors import ConfigError, RegistryError
from vero_data.registry import Registry, close_matches
from vero_data.yaml_file import load_yaml_file

HERE = Path(__file__).parent
TASKS_DIR = HERE / "tasks"
SUITES_DIR = HERE / "suites"
# the modules whose import registers scorers
_SCORER_MODULES = ("chart", "choice", "mathvision", "counting", "grounding", "judged", "synthetic")


def _format_error(path: Path, e: ValidationError) -> str:
    parts = []
    for err in e.errors():
        loc = ".".join(str(x) for x in err["loc"])
        parts.append(f"{loc}: {err['msg']} (got {err.get('input')!r})"[:300])
    return f"{path}: " + "; ".join(parts)


def load_yaml_spec(path: str | Path) -> BenchmarkSpec:
    """Read and validate one benchmark YAML; errors name the file, field and value."""
    path = Path(path)
    data = load_yaml_file(path)
    try:
        return BenchmarkSpec.model_validate(data)
    except ValidationError as e:
        raise ConfigError(_format_error(path, e)) from e


@lru_cache(maxsize=1)
def _all() -> tuple[Registry[BenchmarkSpec], dict[str, str]]:
    reg: Registry[BenchmarkSpec] = Registry("benchmark")
    aliases: dict[str, str] = {}
    for p in sorted(TASKS_DIR.glob("*.yaml")):
        spec = load_yaml_spec(p)
        if p.stem != spec.name:
            raise ConfigError(f"{p}: file name must equal name '{spec.name}'")
        reg.register(spec.name, spec)
        aliases[spec.display_name.lower()] = spec.name
        # lmms-eval's own task name: ours is Vero's `<task>_reasoning` variant of it (mathvista_testmini → …_reasoning)
        aliases.setdefault(spec.name.removesuffix("_reasoning").lower(), spec.name)
        for st in spec.subtasks:
            aliases.setdefault(st.name.lower(), spec.name)
            aliases.setdefault(st.name.removesuffix("_reasoning").lower(), spec.name)
    return reg, aliases


def benchmark_names() -> list[str]:
    return _all()[0].names()


def get_benchmark(name: str) -> BenchmarkSpec:
    """A benchmark by lmms-eval task name, paper display name (``ChartQA``) or subtask name."""
    reg, aliases = _all()
    if name in reg:
        return reg.get(name)
    if name.lower() in aliases:
        return reg.get(aliases[name.lower()])
    choices = reg.names() + [s.display_name for _, s in reg.items()]
    close = close_matches(name, choices)  # display names are matched too; the list names what --tasks takes
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise RegistryError(f"unknown benchmark '{name}'.{hint} Available: {', '.join(reg.names())}")


def resolve_benchmarks(names: list[str]) -> list[str]:
    """Benchmark names as users write them → ours, in order, each once. Beside what :func:`get_benchmark` takes, an
    lmms-eval group name stands for its members (``mmmu_pro`` → the standard and vision tasks), and a comma list
    (``--tasks a,b``, lmms-eval's habit) is split."""
    reg, aliases = _all()
    out: list[str] = []
    for name in (part.strip() for n in names for part in n.split(",")):
        if not name:
            continue
        try:
            out.append(get_benchmark(name).name)
        except RegistryError:
            group = sorted({full for alias, full in aliases.items() if alias.startswith(name.lower() + "_")})
            if not group:
                raise
            out.extend(group)
    return list(dict.fromkeys(out))


@cache
def _suite(path: Path) -> SuiteSpec:
    data = load_yaml_file(path)
    try:
        suite = SuiteSpec.model_validate(data)
    except ValidationError as e:
        raise ConfigError(_format_error(path, e)) from e
    for b in suite.benchmarks:
        get_benchmark(b)
    return suite


@cache
def _suite_files() -> Registry[Path]:
    """The shipped suites, name → YAML file, in the one Registry (its did-you-mean for a mistyped ``--suite``)."""
    reg: Registry[Path] = Registry("suite", imports=False)
    for p in sorted(SUITES_DIR.glob("*.yaml")):
        reg.register(p.stem, p)
    return reg


def suite_names() -> list[str]:
    return _suite_files().names()


def get_suite(name: str) -> SuiteSpec:
    """A suite by name (``veroeval30``, a category name, ``synthetic``) or YAML path (a value ending in .yaml/.yml or
    holding a ``/`` is a path, so a typo in it says "no such file" rather than "unknown suite")."""
    p = Path(name)
    if p.suffix in (".yaml", ".yml") or "/" in name or "\\" in name:
        if not p.is_file():
            raise ConfigError(f"no such file: {name} (--suite takes a suite name or a suite YAML)"
                              if not p.exists() else f"{name}: not a file (--suite takes a suite name or a suite YAML)")
        return _suite(p.resolve())
    return _suite(_suite_files().get(name))


def scorer_for(spec: BenchmarkSpec):
    import importlib

    from vero_data.benchmarks.scoring import SCORERS

    for m in _SCORER_MODULES:
        importlib.import_module(f"vero_data.benchmarks.{m}")
    return SCORERS.get(spec.scorer)
