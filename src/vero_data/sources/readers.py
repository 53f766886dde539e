"""Readers: turn a manifest's `source:` into a stream of ``(upstream_index, upstream_row)``.

Rows stream (``datasets`` streaming for the hub, Arrow batches for local files, JSONL line by line) so memory
stays flat. A local-file row carries its file under ``FILE_KEY`` (relative image paths resolve against it); a JSONL
line that is not a JSON object comes as a ``RowError`` instead of a row, so ingest quarantines it (``bad_json``).
"""

from __future__ import annotations

import glob
import json
import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from vero_data.errors import RowError, SourceUnavailableError
from vero_data.hub import require_hub
from vero_data.manifest import Manifest
from vero_data.registry import Registry
from vero_data.sources.base import generate
from vero_data.sources.table_join import joined
from vero_data.verl import iter_vero600k

log = logging.getLogger(__name__)

GENERATED_KEY = "__raw_sample__"  # a generator row carries its RawSample under this key
FILE_KEY = "__source_file__"  # a local-file row carries the path of its file under this key (ingest pops it)


# source kind (the key given under `source:`) → fn(manifest, start, stop) yielding (upstream_index, row)
SOURCE_READERS: Registry[Callable[[Manifest, int, int | None], Iterator[tuple[int, Any]]]] = Registry("source kind")


def iter_source(manifest: Manifest, start: int = 0, stop: int | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield upstream rows ``start <= index < stop`` (and never past ``manifest.max_samples``)."""
    if manifest.max_samples is not None:
        stop = manifest.max_samples if stop is None else min(stop, manifest.max_samples)
    yield from SOURCE_READERS.get(manifest.source.kind)(manifest, start, stop)


@SOURCE_READERS.register("vero600k")
def _iter_vero600k(manifest: Manifest, start: int, stop: int | None):
    for idx, _uid, row in iter_vero600k(manifest.source.vero600k, stop):
        if idx >= start:
            yield idx, row


@SOURCE_READERS.register("unavailable")
def _iter_unavailable(manifest: Manifest, start: int, stop: int | None):
    raise SourceUnavailableError(
        f"{manifest.name}: no public copy is known ({manifest.source.unavailable}). "
        "Use the released Vero-600K instead: a manifest with `source: {vero600k: {config: ...}}`."
    )


def known_length(manifest: Manifest) -> int | None:
    """Rows the source will yield, when cheap to know (generators, local parquet and jsonl); None for streams."""
    kind = manifest.source.kind
    n = None
    if kind == "generator":
        n = manifest.source.generator.n
    elif kind == "files" and manifest.source.files.format == "parquet":
        n = sum(_parquet_file(manifest, p).metadata.num_rows for p in file_paths(manifest))
    elif kind == "files" and manifest.source.files.format == "jsonl":
        # one pass over the bytes (no JSON parsing) buys parallel parts: a stream is ingested by one process
        n = sum(1 for p in file_paths(manifest) for _ in _jsonl_lines(manifest, p))
    if n is not None and manifest.max_samples is not None:
        n = min(n, manifest.max_samples)
    return n


@SOURCE_READERS.register("generator")
def _iter_generator(manifest: Manifest, start: int, stop: int | None):
    g = manifest.source.generator
    n = g.n if stop is None else min(g.n, stop)
    for i, s in generate(g.name, n, g.seed, g.params, split=manifest.split, start=start):
        yield i, {GENERATED_KEY: s}


def file_paths(manifest: Manifest) -> list[str]:
    """The files a `files:` source reads: its globs under ``base_dir`` (default: the manifest's folder)."""
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


def _unreadable(manifest: Manifest, path: str, e: BaseException) -> SourceUnavailableError:
    msg = str(e).splitlines()[0][:200] if str(e) else ""
    return SourceUnavailableError(f"{manifest.name}: cannot read {manifest.source.files.format} file {path}: "
                                  f"{type(e).__name__}{': ' + msg if msg else ''}")


def _parquet_file(manifest: Manifest, path: str):
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as e:
        raise _unreadable(manifest, path, e) from None


@SOURCE_READERS.register("files")
def _iter_joined_files(manifest: Manifest, start: int, stop: int | None):
    return joined(manifest, _iter_files(manifest, start, stop))


def _iter_files(manifest: Manifest, start: int = 0, stop: int | None = None
                ) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
    """Rows ``start <= index < stop`` of local files. Parquet seeks by row-group metadata, so reading part k of
    a source costs O(part), not O(k·part). A file that cannot be read at all raises SourceUnavailableError
    naming it."""
    f = manifest.source.files
    paths = file_paths(manifest)
    if f.format == "parquet":
        import pyarrow as pa

        base = 0
        for p in paths:
            pf = _parquet_file(manifest, p)
            for rg in range(pf.num_row_groups):
                n = pf.metadata.row_group(rg).num_rows
                if base + n <= start:
                    base += n
                    continue
                if stop is not None and base >= stop:
                    return
                try:
                    rows = pf.read_row_group(rg).to_pylist()
                except (pa.ArrowException, OSError) as e:
                    raise _unreadable(manifest, p, e) from None
                for i, row in enumerate(rows):
                    if base + i >= start and (stop is None or base + i < stop):
                        yield base + i, {**row, FILE_KEY: p}
                base += n
        return
    if f.format == "imagefolder":
        for i, p in enumerate(paths[start:stop], start=start):
            yield i, {"image": {"bytes": None, "path": p}, "file_name": os.path.relpath(p), FILE_KEY: p}
        return
    if f.format == "jsonl":
        yield from _iter_jsonl(manifest, paths, start, stop)
        return
    from datasets import load_dataset

    builder = {"json": "json", "csv": "csv"}[f.format]
    base = 0
    for p in paths:  # one file at a time, so an unreadable one is named
        if stop is not None and base >= stop:
            return
        n = 0
        try:
            for row in load_dataset(builder, data_files=[p], split="train", streaming=True):
                if stop is not None and base + n >= stop:
                    return
                if base + n >= start:
                    yield base + n, {**row, FILE_KEY: p}
                n += 1
        except Exception as e:  # datasets wraps parse errors in several types (DatasetGenerationError, ArrowInvalid…)
            raise _unreadable(manifest, p, e) from None
        base += n


def _jsonl_lines(manifest: Manifest, path: str) -> Iterator[tuple[int, bytes]]:
    """(line number, bytes) of every non-blank line of one jsonl file, a leading BOM removed; a file that is not
    UTF-8 text raises SourceUnavailableError naming it."""
    try:
        fh = open(path, "rb")  # noqa: SIM115 (the `with` below closes it; open errors are named here)
    except OSError as e:
        raise _unreadable(manifest, path, e) from None
    with fh:
        head = fh.read(4096)
        fh.seek(0)
        if b"\x00" in head or head.startswith((b"\xff\xfe", b"\xfe\xff")):  # binary, gzip or UTF-16/32
            raise SourceUnavailableError(f"{manifest.name}: {path} is not UTF-8 text; format: jsonl expects one "
                                         "JSON object per line")
        for lineno, raw in enumerate(fh, start=1):
            if lineno == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            if raw.strip():
                yield lineno, raw


def _iter_jsonl(manifest: Manifest, paths: list[str], start: int = 0, stop: int | None = None
                ) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
    """Rows ``start <= index < stop``, a row being a non-blank line of the files in order; lines before ``start`` are
    skipped unparsed. A line that is not a JSON object becomes a RowError."""
    idx = 0
    for p in paths:
        for lineno, raw in _jsonl_lines(manifest, p):
            if stop is not None and idx >= stop:
                return
            if idx < start:
                idx += 1
                continue
            try:
                row = json.loads(raw.decode("utf-8"))
            except UnicodeDecodeError as e:
                row = RowError("bad_json", f"{p}:{lineno}: not UTF-8 (byte {e.start})")
            except (ValueError, RecursionError) as e:  # JSONDecodeError, a huge int, absurd nesting
                row = RowError("bad_json", f"{p}:{lineno}: {type(e).__name__}: {str(e)[:200]}")
            else:
                if not isinstance(row, dict):
                    row = RowError("bad_json", f"{p}:{lineno}: a JSON {type(row).__name__}, expected an object")
                else:
                    row[FILE_KEY] = p
            yield idx, row
            idx += 1


@SOURCE_READERS.register("hub")
def _iter_joined_hub(manifest: Manifest, start: int, stop: int | None):
    return joined(manifest, _iter_hub(manifest, start, stop))


def _iter_hub(manifest: Manifest, start: int, stop: int | None):
    """Rows of a hub dataset. Any failure of ``datasets`` (no network, a missing config or split, a script-only repo
    that ``datasets`` >= 4 refuses with RuntimeError, a corrupt shard mid-stream) becomes one SourceUnavailableError
    naming the source, so a build reports the source as unavailable instead of dying with a traceback."""
    from datasets import load_dataset

    h = manifest.source.hub
    require_hub(h.path, f"{manifest.name}: hub dataset {h.path}")
    try:
        ds = load_dataset(
            h.path, h.config, split=h.split, revision=h.revision, data_files=h.data_files, streaming=h.streaming
        )
        from vero_data.hub_images import fetch_hub_files, keep_encoded_images

        image_cols: list[str] = []
        if getattr(ds, "features", None) is not None:  # a JSON/CSV stream has unknown features: nothing to decode
            ds, image_cols = keep_encoded_images(ds)  # source bytes, not PIL images re-encoded later (lossy)
        if start:
            ds = ds.skip(start)
        it = iter(ds)
        i = start
        while stop is None or i < stop:
            try:
                row = next(it)
            except StopIteration:
                return
            yield i, fetch_hub_files(row, image_cols) if image_cols else row
            i += 1
    except Exception as e:  # datasets raises many types (RuntimeError, DatasetNotFoundError, HfHubHTTPError...)
        raise SourceUnavailableError(_hub_failure(manifest, e)) from None


def _hub_failure(manifest: Manifest, e: BaseException) -> str:
    h = manifest.source.hub
    first = str(e).splitlines()[0][:200] if str(e) else ""
    where = (f"{h.path}{'/' + h.config if h.config else ''} split {h.split}"
             f"{' revision ' + h.revision if h.revision else ''}")
    hint = ""
    if "scripts are no longer supported" in str(e):
        hint = (" (a script-only repo: point source.hub at a Parquet copy, e.g. revision: refs/convert/parquet with "
                "data_files, or a Parquet mirror)")
    return f"{manifest.name}: cannot read hub dataset {where}: {type(e).__name__}{': ' + first if first else ''}{hint}"
