"""The one Registry: lazy "module:attr" entries, suggest() and import_object()."""

from __future__ import annotations

import subprocess
import sys

import pytest

from vero_data.errors import ConfigError, RegistryError
from vero_data.registry import Registry, import_object, suggest


def test_suggest_lists_close_matches_then_every_name():
    assert suggest("numerc", ["numeric", "exact"]) == "Did you mean 'numeric'? Available: exact, numeric"
    assert suggest("zzz", ["b", "a"]) == "Available: a, b"
    assert suggest("x", []) == "Available: (none)"


def test_unknown_name_is_a_config_error_with_the_hint():
    reg: Registry[int] = Registry("widget")
    reg.register("alpha", 1)
    with pytest.raises(RegistryError, match=r"unknown widget 'alpah'\. Did you mean 'alpha'\? Available: alpha"):
        reg.get("alpah")
    assert issubclass(RegistryError, ConfigError) and issubclass(RegistryError, KeyError)


def test_register_twice_fails_and_decorator_returns_the_object():
    reg: Registry = Registry("widget")

    @reg.register("f")
    def f():
        return 1

    assert reg.get("f") is f
    with pytest.raises(RegistryError, match="already registered"):
        reg.register("f", lambda: 2)


def test_lazy_entry_is_imported_on_first_get_only():
    code = ("import sys; from vero_data.registry import Registry; r = Registry('thing');"
            "r.register_lazy('dc', 'json.decoder:JSONDecoder'); r.register_lazy('dc', 'json.decoder:JSONDecoder');"
            "assert 'json.decoder' not in sys.modules, 'imported at registration';"
            "import json.decoder; assert r.get('dc') is json.decoder.JSONDecoder; print(r.names())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['dc']"


def test_lazy_entry_that_does_not_import_names_the_path():
    reg: Registry = Registry("backend")
    reg.register_lazy("gone", "vero_data.no_such_module:Thing")
    with pytest.raises(RegistryError, match="cannot import backend 'vero_data.no_such_module:Thing'"):
        reg.get("gone")
    with pytest.raises(RegistryError, match="already registered"):
        reg.register_lazy("gone", "other:Thing")


@pytest.mark.parametrize("path", ["os.path:join", "os.path.join"])
def test_import_object_takes_colon_or_dot(path):
    import os.path

    assert import_object(path) is os.path.join


@pytest.mark.parametrize(("path", "why"), [
    ("os.path:no_such", "module 'os.path' has no attribute 'no_such'"),
    ("no_such_pkg.mod:f", "No module named 'no_such_pkg'"),
    ("nodots", "expected 'package.module:name'"),
])
def test_import_object_says_what_failed(path, why):
    with pytest.raises(RegistryError, match=f"cannot import reward '{path}'.*{why}"):
        import_object(path, "reward")


def test_dotted_name_falls_back_to_import():
    reg: Registry = Registry("reward")
    import os.path

    assert reg.get("os.path:join") is os.path.join


def test_registries_keyed_by_dataset_rows_never_import_a_dotted_name(monkeypatch):
    """A reward type or an instruction class comes from a dataset row: "os:getcwd" must be unknown, not imported."""
    import importlib

    from vero_data.errors import RegistryError
    from vero_data.rewards import compute_score
    from vero_data.rewards.base import REWARDS
    from vero_data.rewards.ifeval import CHECKERS, score_instructions

    imported = []
    real = importlib.import_module
    monkeypatch.setattr(importlib, "import_module", lambda name, *a: imported.append(name) or real(name, *a))
    for reg in (REWARDS, CHECKERS):
        with pytest.raises(RegistryError, match="unknown"):
            reg.get("os:getcwd")
    compute_score("<answer>\\boxed{4}</answer>", "4", {"reward_type": "os.getcwd"})  # an unrecognised type
    assert score_instructions("Hello.", [{"class": "os:getcwd", "args": {}}]) == 0.0  # Vero: unknown → not followed
    assert imported == []
