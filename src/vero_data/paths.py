"""Where shipped resources live (`manifests/` and `sql/` at the repo root, packaged under `_resources/`). Run
folders (OUT) are claimed through :mod:`vero_data.outdir`."""

from __future__ import annotations

from pathlib import Path

_RES = Path(__file__).resolve().parent / "_resources"


def manifests_dir() -> Path:
    return _RES / "manifests"


def recipes_dir() -> Path:
    return manifests_dir() / "recipes"


def sql_dir() -> Path:
    return _RES / "sql"
