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
from vero_data.sources.generators.captions import satisfying_response  # noqa: E402
from vero_data.sources.generators.corrupt import (  # noqa: E402
    brightness_shift,
    jpeg_reencode,
    near_duplicates,
    slight_resize,
    truncated_image_bytes,
)
from vero_data.sources.generators.gallery import (  # noqa: E402
    bench_generators,
    gallery_examples,
    generator_table,
    render_gallery,
)
from vero_data.sources.generators.heldout import HeldOutLeak, check_disjoint  # noqa: E402

__all__ = [
    "HeldOutLeak",
    "bench_generators",
    "brightness_shift",
    "check_disjoint",
    "gallery_examples",
    "generator_table",
    "jpeg_reencode",
    "near_duplicates",
    "render_gallery",
    "satisfying_response",
    "slight_resize",
    "truncated_image_bytes",
]
