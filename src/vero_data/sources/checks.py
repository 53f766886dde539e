"""Checks of a manifest that need the registries (adapter and generator names, generator params, file globs).

They live beside the sources, not in ``vero_data.manifest``, so the manifest model stays a leaf the sources import.
"""

from __future__ import annotations

from vero_data.errors import ConfigError, VeroError
from vero_data.manifest import Manifest
from vero_data.sources import load_plugins
from vero_data.sources.base import ADAPTERS, check_generator_params
from vero_data.sources.readers import file_paths


def check_manifest(m: Manifest, files: bool = False) -> None:
    """What the schema cannot see: adapter and generator names, generator params, and (``files``) that the
    `files:` globs match something. Errors are prefixed with the manifest's file."""
    load_plugins()
    try:
        if isinstance(m.adapter, str):
            ADAPTERS.get(m.adapter)
        if m.source.generator:
            check_generator_params(m.source.generator.name, m.source.generator.params, where="source.generator.params")
        if files and m.source.files:
            file_paths(m)
    except VeroError as e:
        msg = str(e)
        if m.path and not msg.startswith(m.path):
            raise ConfigError(f"{m.path}: {msg}") from None
        raise
