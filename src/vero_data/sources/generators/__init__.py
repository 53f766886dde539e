"""Procedural task generators: offline, verifiable tasks for all six categories, rendered with Pillow.

Importing this package registers every generator in ``vero_data.sources.GENERATORS``. Each one is
``fn(rng, params) -> RawSample``; ``vero_data.sources.generate`` seeds rows independently, so the same
(name, split, seed, index) always gives byte-identical images and rows. See docs/generators.md.
"""

from vero_data.sources.generators import (  # noqa: F401  (imported so their generators register)
    algebra,
    captions,
    charts,
    geometry,
    navigation,
    recognition,
    scenes,
    tables_text,
    ui,
)
