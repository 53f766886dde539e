"""Sources: readers for hub/files/generator/vero600k manifests, the adapter and generator registries."""

from vero_data.sources.base import (
    ADAPTERS,
    GENERATORS,
    AdapterContext,
    GeneratorInfo,
    generate,
    register_adapter,
    register_generator,
    row_seed,
)

__all__ = [
    "ADAPTERS",
    "GENERATORS",
    "AdapterContext",
    "GeneratorInfo",
    "generate",
    "register_adapter",
    "register_generator",
    "row_seed",
    "load_plugins",
]

_loaded = False


def load_plugins() -> None:
    """Import the modules that register adapters and generators (kept lazy so `vero --help` stays fast)."""
    global _loaded
    if _loaded:
        return
    import vero_data.sources.adapters  # noqa: F401
    import vero_data.sources.builtin_adapters  # noqa: F401
    import vero_data.sources.generators  # noqa: F401

    _loaded = True
