"""`vero data probe`: does each source's adapter understand its real upstream rows? Checked on N rows, before a
600K-row build.

A probe runs the build's own ingest (:func:`vero_data.stages.ingest.ingest_part`: reader → adapter → normalise →
canonicalise → validate, images decoded) on rows ``[0, n)`` of each source in a temporary folder, and reports what
came out: rows read, rows mapped, quarantine reasons, one canonical row. It also reports the upstream columns the
adapter looked up: each row reaches the adapter as a :class:`RecordingRow`, a dict that notes every key asked for
(``row[k]``, ``row.get(k)``, ``k in row``, in nested dicts and lists of dicts too), so a column the adapter wants and
the upstream lacks (a layout mismatch) is named without editing any adapter.
"""

from __future__ import annotations

import contextvars
import dataclasses
import logging
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vero_data.errors import ConfigError, VeroError
from vero_data.layout import BuildDir

if TYPE_CHECKING:
    from vero_data.manifest import Manifest
    from vero_data.stages.ingest import IngestSettings

log = logging.getLogger(__name__)

RECORDING_ADAPTER = "vero_data.probe:recording_adapter"  # a dotted adapter name: ADAPTERS.get imports it
DEFAULT_ROWS = 50


# ------------------------------------------------------------------------------------------- recording rows
class _RowLog:
    """The lookups of one upstream row: path → found (``image``, ``qa.answer``, ``texts[].user``)."""

    __slots__ = ("active", "paths")

    def __init__(self) -> None:
        self.paths: dict[str, bool] = {}
        self.active = True  # off once the adapter has returned: later code reading the row is not the adapter

    def note(self, path: str, found: bool) -> None:
        if self.active:
            self.paths[path] = self.paths.get(path, False) or found


def _wrap(value: Any, path: str, rowlog: _RowLog) -> Any:
    """Nested dicts (and dicts inside lists) come back recording too, under ``path``."""
    if isinstance(value, dict) and not isinstance(value, RecordingRow):
        return RecordingRow(value, rowlog, path + ".")
    if isinstance(value, list):
        return [_wrap(v, path + "[]", rowlog) for v in value]
    return value


class RecordingRow(dict):
    """An upstream row (or a dict inside one) that notes the keys looked up in it, and whether each was there.

    Reads through ``[]``, ``get``, ``in``; a copy (``{**row}``, ``dict(row)``), ``items()`` or ``values()`` counts
    as reading every key. Iterating over the keys alone reads nothing.
    """

    __slots__ = ("_log", "_prefix")

    def __init__(self, data: dict | None = None, rowlog: _RowLog | None = None, prefix: str = ""):
        super().__init__(data or {})
        self._log = rowlog if rowlog is not None else _RowLog()
        self._prefix = prefix

    def _note(self, key: Any, found: bool) -> None:
        self._log.note(f"{self._prefix}{key}", found)

    def __getitem__(self, key):
        found = dict.__contains__(self, key)
        self._note(key, found)
        return _wrap(dict.__getitem__(self, key), f"{self._prefix}{key}", self._log)  # KeyError when absent

    def get(self, key, default=None):
        if dict.__contains__(self, key):
            self._note(key, True)
            return _wrap(dict.__getitem__(self, key), f"{self._prefix}{key}", self._log)
        self._note(key, False)
        return default

    def __contains__(self, key) -> bool:
        found = dict.__contains__(self, key)
        self._note(key, found)
        return found

    def __iter__(self):  # overridden, so `{**row}` / `dict(row)` go through keys() + __getitem__ (and are noted)
        return dict.__iter__(self)

    def items(self):
        return [(k, self[k]) for k in dict.keys(self)]

    def values(self):
        return [self[k] for k in dict.keys(self)]

    def __reduce__(self):  # copy/pickle as a plain dict
        return (dict, (dict(dict.items(self)),))


def _plain(value: Any) -> Any:
    """``value`` with every RecordingRow turned back into a plain dict (what the adapter returns goes on as usual)."""
    from vero_data.schema import RawSample

    if isinstance(value, RawSample):
        for f in dataclasses.fields(value):
            setattr(value, f.name, _plain(getattr(value, f.name)))
        return value
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in dict.items(value)}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    return value


@dataclass
class _Recording:
    """What :func:`recording_adapter` needs during one probe: the real adapter and the per-row logs."""

    adapter: Callable[[dict, Any], Any]
    rows: dict[int, _RowLog] = field(default_factory=dict)
    columns: dict[str, None] = field(default_factory=dict)  # upstream column names, in order of first sight


_ACTIVE: contextvars.ContextVar[_Recording | None] = contextvars.ContextVar("vero_probe_recording", default=None)


def recording_adapter(row: dict[str, Any], ctx: Any) -> Any:
    """The probed source's own adapter, called on a :class:`RecordingRow`; its output is returned unchanged
    (generators stay lazy, so a multi-sample adapter's RowError mid-way is handled by ingest as in a build)."""
    from vero_data.schema import RawSample

    rec = _ACTIVE.get()
    if rec is None:
        raise RuntimeError(f"{RECORDING_ADAPTER} is only for `vero data probe`")
    rowlog = rec.rows.setdefault(ctx.index, _RowLog())
    rowlog.active = True
    if isinstance(row, dict):
        rec.columns.update(dict.fromkeys(k for k in row if not str(k).startswith("__")))
        row = RecordingRow(row, rowlog)
    try:
        out = rec.adapter(row, ctx)
    except BaseException:
        rowlog.active = False
        raise
    if isinstance(out, RawSample):
        rowlog.active = False
        return _plain(out)
    return _plain_each(out, rowlog)


def _plain_each(samples: Iterable[Any], rowlog: _RowLog):
    try:
        for s in samples:
            yield _plain(s)
    finally:
        rowlog.active = False


# ------------------------------------------------------------------------------------------------- results
@dataclass
class SourceProbe:
    """What probing one source found. ``status``: ok, partial (some rows quarantined), layout mismatch (every row
    quarantined for one reason), no rows mapped, empty (no rows read) or unavailable (could not be read)."""

    name: str
    manifest: str | None
    location: str
    adapter: str
    status: str = "ok"
    error: str | None = None
    read: int = 0
    mapped: int = 0
    quarantined: dict[str, dict[str, Any]] = field(default_factory=dict)
    verdict: str | None = None
    example: dict[str, Any] | None = None
    columns_seen: list[str] = field(default_factory=list)
    columns_read: list[str] = field(default_factory=list)
    columns_unread: list[str] = field(default_factory=list)
    missing: list[dict[str, Any]] = field(default_factory=list)
    absent_fallbacks: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """Readable and at least one row mapped: what the exit code asks of every named source."""
        return self.error is None and self.mapped > 0

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "ok": self.ok}


# ----------------------------------------------------------------------------------------------- resolving
def _source_registry(extra: list[Path]):
    from vero_data.manifest import all_manifest_paths
    from vero_data.registry import Registry

    reg: Any = Registry("source")
    for p in [*all_manifest_paths(), *extra]:
        if p.stem not in reg:
            reg.register(p.stem, p)
    return reg


def resolve_sources(refs: list[str], recipe: str | None = None) -> list[Manifest]:
    """Manifests for ``refs`` (names as `vero data sources` lists them, or manifest paths); no refs and a recipe:
    every source of the recipe. An unknown name raises one "did you mean" line per name."""
    from vero_data.manifest import is_recipe_file, load_manifest, load_recipe, recipe_manifests, resolve_manifest

    r = load_recipe(recipe) if recipe else None
    if not refs:
        if r is None:
            raise ConfigError("name at least one source (see `vero data sources`) or pass --recipe")
        return recipe_manifests(r)
    paths: list[Path] = []
    errors: list[str] = []
    registry = None
    for ref in refs:
        p = Path(ref).expanduser()
        if p.suffix in (".yaml", ".yml") or "/" in ref or "\\" in ref:
            if not p.is_file():
                errors.append(f"no such manifest file: {ref}")
            elif is_recipe_file(p):
                errors.append(f"{ref} is a recipe, not a manifest: pass it as --recipe {ref}")
            else:
                paths.append(p)
            continue
        try:
            paths.append(resolve_manifest(ref, recipe_path=r.path if r else None))
            continue
        except ConfigError:
            pass
        if registry is None:
            registry = _source_registry([])
        same = [n for n in registry.names() if n.lower() == ref.lower()]
        if len(same) == 1:  # `flickr30k` for Flickr30K
            paths.append(registry.get(same[0]))
            continue
        if "." in ref or ":" in ref:  # Registry.get would try to import it as a dotted path
            errors.append(f"unknown source '{ref}': not a manifest name (see `vero data sources`) nor a file")
            continue
        try:
            paths.append(registry.get(ref))
        except VeroError as e:
            errors.append(str(e))
    if errors:
        raise ConfigError("\n".join(errors))
    out, seen = [], set()
    for p in paths:
        m = load_manifest(p)
        if m.name not in seen:
            seen.add(m.name)
            out.append(m)
    return out


def ingest_settings(recipe: str | None = None) -> IngestSettings:
    """The settings a build of ``recipe`` ingests with (a `--manifest` build's defaults without one)."""
    from vero_data.image_paths import DEFAULT_MAX_IMAGE_BYTES
    from vero_data.images import DEFAULT_MAX_PIXELS
    from vero_data.manifest import FilterThresholds, load_recipe
    from vero_data.stages.ingest import IngestSettings

    filters = load_recipe(recipe).filters if recipe else FilterThresholds()
    # BuildConfig's defaults for --max-pixels and --max-image-bytes
    return IngestSettings(DEFAULT_MAX_PIXELS, filters.max_answer_chars, max_question_chars=filters.max_question_chars,
                          max_image_bytes=DEFAULT_MAX_IMAGE_BYTES)


# ------------------------------------------------------------------------------------------------- probing
def probe_sources(refs: list[str], n: int = DEFAULT_ROWS, recipe: str | None = None,
                  progress: Callable[[str], None] | None = None) -> list[SourceProbe]:
    """Probe each source on its first ``n`` rows, the way `vero data build` ingests them.

    Args:
        refs: manifest names or paths; empty with ``recipe``: all of the recipe's sources.
        n: upstream rows read per source.
        recipe: recipe whose sources (no refs) and ingest limits (answer/question length) to use.
        progress: called with one line per source as it starts and ends (the CLI prints them on stderr).
    """
    if n < 1:
        raise ConfigError(f"--n must be >= 1, got {n}")
    manifests = resolve_sources(refs, recipe)
    settings = ingest_settings(recipe)
    out = []
    for i, m in enumerate(manifests, 1):
        if progress:
            progress(f"[{i}/{len(manifests)}] {m.name}: reading {n} rows of {_location(m)}")
        p = probe_manifest(m, n, settings)
        if progress:
            progress(f"[{i}/{len(manifests)}] {m.name}: " + (p.error or f"{p.read} read, {p.mapped} mapped"
                                                            f" ({p.status}, {p.seconds:.1f}s)"))
        out.append(p)
    return out


def _location(m: Manifest) -> str:
    from vero_data.sources.listing import source_location

    return source_location(m)


def probe_manifest(m: Manifest, n: int, settings: IngestSettings) -> SourceProbe:
    """Ingest rows ``[0, n)`` of one source into a temporary folder and summarise what came out."""
    from vero_data.sources import ADAPTERS, load_plugins
    from vero_data.sources.builtin_adapters import mapped
    from vero_data.stages.ingest import ingest_part

    load_plugins()
    t0 = time.perf_counter()
    res = SourceProbe(m.name, m.path, _location(m), m.adapter if isinstance(m.adapter, str) else "mapping")
    try:
        if isinstance(m.adapter, str):
            adapter = ADAPTERS.get(m.adapter)
        else:
            mapping = m.adapter
            adapter = lambda row, ctx: mapped(row, ctx, mapping)  # noqa: E731
    except VeroError as e:
        return _unavailable(res, f"{m.path or m.name}: {e}", t0)
    rec = _Recording(adapter)
    update: dict[str, Any] = {"adapter": RECORDING_ADAPTER}
    if m.source.hub is not None and not m.source.hub.streaming:  # N rows, not the whole split's download
        update["source"] = m.source.model_copy(update={"hub": m.source.hub.model_copy(update={"streaming": True})})
    probe_m = m.model_copy(update=update)
    token = _ACTIVE.set(rec)
    with tempfile.TemporaryDirectory(prefix="vero-probe-") as tmp:
        try:
            part = ingest_part(probe_m, 0, n, BuildDir(Path(tmp)), settings)
        except VeroError as e:  # SourceUnavailableError: hub unreachable (require_hub), files missing…
            return _unavailable(res, str(e), t0)
        except Exception as e:  # noqa: BLE001 (a loader's own failure, e.g. datasets refusing a script repo)
            first = (str(e).strip().splitlines() or [""])[0][:300]
            return _unavailable(res, f"{m.name}: cannot read {res.location}: {type(e).__name__}: {first}", t0)
        finally:
            _ACTIVE.reset(token)
        res.read, res.mapped = part.upstream_rows, part.kept
        kept_idx = _read_outputs(res, BuildDir(Path(tmp)), m.name)
    _columns(res, rec, kept_idx)
    _verdict(res)
    res.seconds = round(time.perf_counter() - t0, 2)
    return res


def _unavailable(res: SourceProbe, msg: str, t0: float) -> SourceProbe:
    res.status, res.error, res.seconds = "unavailable", msg, round(time.perf_counter() - t0, 2)
    return res


def _read_outputs(res: SourceProbe, work: BuildDir, name: str) -> set[int]:
    """Quarantine reasons (count, one detail each) and the first canonical row; the upstream rows that mapped."""
    import json

    import pyarrow.parquet as pq

    q = pq.read_table(work.part_file(name, "quarantine", 0)).to_pylist()
    counts = Counter(r["reason"] for r in q)
    for reason, count in counts.most_common():
        first = next(r for r in q if r["reason"] == reason)
        res.quarantined[reason] = {"count": count, "stage": first["stage"], "field": first["field"],
                                   "detail": first["detail"], "upstream_index": first["upstream_index"]}
    meta = pq.read_table(work.part_file(name, "meta", 0), columns=["upstream_index", "width", "height"]).to_pylist()
    if meta:
        row = pq.ParquetFile(work.part_file(name, "rows", 0)).read_row_group(0).slice(0, 1).to_pylist()[0]
        extra = json.loads(row["extra_info"] or "{}")
        users = [m["content"] for m in row["prompt"] if m["role"] == "user"]
        res.example = {
            "question": extra.get("question") or (users[-1] if users else ""),
            "answer": row["answer"],
            "reward_type": row["reward_type"],
            "image_sizes": [[w, h] for w, h in zip(meta[0]["width"], meta[0]["height"], strict=True)],
            "images": [{"path": im["path"], "bytes": len(im["bytes"] or b"")} for im in row["images"]],
            "prompt": row["prompt"],
            "extra_info": extra,
            "split": row["split"],
            "id": row["id"],
            "upstream_id": row["lineage"]["upstream_id"],
            "upstream_index": row["lineage"]["upstream_index"],
        }
    return {r["upstream_index"] for r in meta}


def _columns(res: SourceProbe, rec: _Recording, kept: set[int]) -> None:
    """Upstream columns seen vs read; paths looked up and never there in rows that failed (``missing``) or only in
    rows that mapped anyway (``absent_fallbacks``: an alternative name the adapter tried first)."""
    looked: Counter = Counter()
    found: Counter = Counter()
    absent_failed: Counter = Counter()
    for idx, rowlog in rec.rows.items():
        for path, ok in rowlog.paths.items():
            looked[path] += 1
            found[path] += ok
            absent_failed[path] += (not ok) and idx not in kept
    res.columns_seen = list(rec.columns)
    top_read = {p.split(".")[0].split("[]")[0] for p in looked if found[p]}
    res.columns_read = [c for c in res.columns_seen if c in top_read]
    res.columns_unread = [c for c in res.columns_seen if c not in top_read]
    for path in looked:
        if absent_failed[path]:
            res.missing.append({"column": path, "absent_in": absent_failed[path], "present_in": found[path],
                                "looked_up_in": looked[path]})
        elif not found[path]:
            res.absent_fallbacks.append(path)
    res.missing.sort(key=lambda x: (x["present_in"] > 0, -x["absent_in"]))  # never-present columns first


def _verdict(res: SourceProbe) -> None:
    if res.read == 0:
        res.status, res.verdict = "empty", "the source yielded no rows"
    elif res.mapped == 0:
        never = [x["column"] for x in res.missing if not x["present_in"]]
        cols = f"; the adapter looked for {', '.join(never)}, which no row has" if never else ""
        if len(res.quarantined) == 1:
            (reason, q), = res.quarantined.items()
            res.status = "layout mismatch"
            res.verdict = f"layout mismatch: all {q['count']} rows quarantined as {reason} ({q['detail']}){cols}"
        else:
            res.status = "no rows mapped"
            res.verdict = f"no row mapped: quarantined as {', '.join(res.quarantined)}{cols}"
    elif res.quarantined:
        res.status = "partial"
