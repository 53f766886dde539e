"""Readers: turn a manifest's `source:` into a stream of ``(upstream_index, upstream_row)``.

Rows stream (``datasets`` streaming for the hub, Arrow batches for local files) so memory stays flat.
"""

from __future__ import annotations

import glob
import itertools
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from vero_data.errors import SourceUnavailableError
from vero_data.hub import require_hub
from vero_data.manifest import Manifest

log = logging.getLogger(__name__)

GENERATED_KEY = "__raw_sample__"  # a generator row carries its RawSample under this key


def iter_source(manifest: Manifest, start: int = 0, stop: int | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield upstream rows ``start <= index < stop`` (and never past ``manifest.max_samples``)."""
    if manifest.max_samples is not None:
        stop = manifest.max_samples if stop is None else min(stop, manifest.max_samples)
    kind = manifest.source.kind
    if kind == "generator":
        yield from _iter_generator(manifest, start, stop)
    elif kind == "files":
        yield from _iter_files(manifest, start, stop)
    elif kind == "hub":
        yield from _iter_hub(manifest, start, stop)
    elif kind == "vero600k":
        from vero_data.verl import iter_vero600k

        for idx, _uid, row in iter_vero600k(manifest.source.vero600k, stop):
            if idx >= start:
                yield idx, row
    else:
        raise SourceUnavailableError(
            f"{manifest.name}: no public copy is known ({manifest.source.unavailable}). "
            "Use the released Vero-600K instead: a manifest with `source: {vero600k: {config: ...}}`."
        )


def known_length(manifest: Manifest) -> int | None:
    """Rows the source will yield, when cheap to know (generators, local parquet); None for streams."""
    kind = manifest.source.kind
    n = None
    if kind == "generator":
        n = manifest.source.generator.n
    elif kind == "files" and manifest.source.files.format == "parquet":
        import pyarrow.parquet as pq

        n = sum(pq.ParquetFile(p).metadata.num_rows for p in _file_paths(manifest))
    if n is not None and manifest.max_samples is not None:
        n = min(n, manifest.max_samples)
    return n


def _iter_generator(manifest: Manifest, start: int, stop: int | None):
    from vero_data.sources.base import generate

    g = manifest.source.generator
    n = g.n if stop is None else min(g.n, stop)
    for i, s in generate(g.name, n, g.seed, g.params, split=manifest.split, start=start):
        yield i, {GENERATED_KEY: s}


def _file_paths(manifest: Manifest) -> list[str]:
    f = manifest.source.files
    base = Path(f.base_dir) if f.base_dir else (Path(manifest.path).parent if manifest.path else Path.cwd())
    paths: list[str] = []
    for g in f.globs:
        pat = g if os.path.isabs(g) else str(base / g)
        paths.extend(sorted(glob.glob(pat, recursive=True)))
    paths = [p for p in dict.fromkeys(paths) if os.path.isfile(p)]
    if not paths:
        raise SourceUnavailableError(f"{manifest.name}: no files match {f.globs} under {base}")
    return paths


def _iter_files(manifest: Manifest, start: int = 0, stop: int | None = None
                ) -> Iterator[tuple[int, dict[str, Any]]]:
    """Rows ``start <= index < stop`` of local files. Parquet seeks by row-group metadata, so reading part k of
    a source costs O(part), not O(k·part)."""
    f = manifest.source.files
    paths = _file_paths(manifest)
    if f.format == "parquet":
        import pyarrow.parquet as pq

        base = 0
        for p in paths:
            pf = pq.ParquetFile(p)
            for rg in range(pf.num_row_groups):
                n = pf.metadata.row_group(rg).num_rows
                if base + n <= start:
                    base += n
                    continue
                if stop is not None and base >= stop:
                    return
                for i, row in enumerate(pf.read_row_group(rg).to_pylist()):
                    if base + i >= start and (stop is None or base + i < stop):
                        yield base + i, row
                base += n
        return
    if f.format == "imagefolder":
        for i, p in enumerate(paths[start:stop], start=start):
            yield i, {"image": {"bytes": None, "path": p}, "file_name": os.path.relpath(p)}
        return
    from datasets import load_dataset

    builder = {"jsonl": "json", "json": "json", "csv": "csv"}[f.format]
    ds = load_dataset(builder, data_files=paths, split="train", streaming=True)
    yield from itertools.islice(enumerate(ds), start, stop)


def _iter_hub(manifest: Manifest, start: int, stop: int | None):
    from datasets import load_dataset

    h = manifest.source.hub
    require_hub(h.path, f"{manifest.name}: hub dataset {h.path}")
    try:
        ds = load_dataset(
            h.path, h.config, split=h.split, revision=h.revision, data_files=h.data_files, streaming=h.streaming
        )
        if start:
            ds = ds.skip(start)
        it = iter(ds)
        i = start
        while stop is None or i < stop:
            try:
                row = next(it)
            except StopIteration:
                return
            yield i, row
            i += 1
    except (ConnectionError, OSError, FileNotFoundError, ValueError) as e:
        raise SourceUnavailableError(
            f"{manifest.name}: cannot read hub dataset {h.path}"
            f"{'/' + h.config if h.config else ''} split {h.split}: {type(e).__name__}: {str(e).splitlines()[0][:200]}"
        ) from None
