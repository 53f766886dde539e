"""Model commands mounted on the `vero` app: `vero model …`, `vero data filter`, `vero train`, `vero eval …`.

Each command group lives in its own module with a ``register(app, data_app, bench_app)`` function. Importing
this module (and those) must stay cheap: torch, transformers, trl and vllm are imported inside command bodies.
"""

from __future__ import annotations

import importlib
import logging

log = logging.getLogger(__name__)

_GROUPS = ("vero_train.cli_filter", "vero_train.cli_train", "vero_train.cli_eval", "vero_train.cli_curate")


def register(app, data_app, bench_app) -> None:
    for name in _GROUPS:
        try:
            mod = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name == name:  # that group is not part of this install (yet)
                continue
            raise
        mod.register(app, data_app, bench_app)
