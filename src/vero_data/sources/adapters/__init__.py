"""Upstream adapters for the Vero-600K sources; importing this package registers every one of them.

One adapter per upstream *format* (sources sharing a layout share an adapter and differ in ``adapter_params``).
See docs/sources.md for which source uses which adapter.
"""

from vero_data.sources.adapters import (  # noqa: F401
    captioning,
    cosyn,
    finevision,
    grounding,
    pixmo,
    search,
    spatial,
    verl,
    vqa,
)
