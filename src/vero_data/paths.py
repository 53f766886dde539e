"""Where shipped resources live (`manifests/` and `sql/` at the repo root, packaged under `_resources/`), and the
`--overwrite` removal of a run folder that every command shares."""

from __future__ import annotations

from pathlib import Path

_RES = Path(__file__).resolve().parent / "_resources"


def manifests_dir() -> Path:
    return _RES / "manifests"


def recipes_dir() -> Path:
    return manifests_dir() / "recipes"


def sql_dir() -> Path:
    return _RES / "sql"


def remove_out_dir(out: Path) -> None:
    """``--overwrite`` of a run folder: delete OUT, but never a file given by mistake nor the working directory
    (or a folder above it)."""
    import shutil

    from vero_data.errors import ConfigError

    if not out.exists():
        return
    if Path.cwd().resolve().is_relative_to(out.resolve()):
        raise ConfigError(f"--overwrite would delete {out}, which holds the working directory; pass a run folder")
    if not out.is_dir():
        raise ConfigError(f"--out {out} is a file, not a run folder")
    shutil.rmtree(out)
