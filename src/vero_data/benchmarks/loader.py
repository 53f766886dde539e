"""Benchmark rows from the Hub (``datasets``, streaming where large) or from the offline generators, and the
user turn built from a row (text with ``{"type": "image"}`` parts + the images in order)."""

from __future__ import annotations

import itertools
import string
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from vero_data.benchmarks.spec import BenchmarkSpec
from vero_data.errors import SourceUnavailableError
from vero_data.hub import require_hub


def _import(dotted: str):
    from vero_data.registry import import_object

    return import_object(dotted, "benchmark loader")


def _hub_rows(hub_id: str, config: str | None, split: str, revision: str | None, streaming: bool) -> Iterable[dict]:
    import datasets

    require_hub(hub_id, f"benchmark dataset {hub_id} ({config or 'default'}, {split})")
    try:
        return datasets.load_dataset(hub_id, config, split=split, revision=revision, streaming=streaming)
    except Exception as e:  # offline, gated, renamed: one clear error
        raise SourceUnavailableError(f"cannot load {hub_id} ({config or 'default'}, {split}): {e}") from e


def load_docs(spec: BenchmarkSpec, limit: int | None = None, rows: Iterable[dict] | None = None,
              synthetic_n: int | None = None) -> Iterator[dict]:
    """Yield benchmark docs (after ``process_docs``), each with ``_id`` (stable across runs) and ``sub_task``.

    Args:
        spec: the benchmark.
        limit: at most this many docs (per subtask for grouped benchmarks).
        rows: rows to use instead of the Hub (tests pass hub-layout rows here).
        synthetic_n: a generated benchmark makes this many held-out rows instead of its YAML's ``synthetic.n``
            (rows are deterministic per index, so the first ``n`` are the same either way); ignored for others.
    """
    if spec.synthetic is not None and rows is None:
        from vero_data.benchmarks.synthetic import synthetic_docs

        s = spec.synthetic
        n = synthetic_n or s.n
        n = min(n, limit) if limit else n
        parts = [(spec.name, synthetic_docs(s.generator, n, s.seed, s.params))]
    elif rows is not None:
        parts = [(spec.name, rows)]
    elif spec.subtasks:
        parts = [(st.name, _LazyRows(st.hub_id or spec.hub_id, st.config, st.split or spec.split, spec.revision,
                                     spec.streaming)) for st in spec.subtasks]
    else:
        parts = [(spec.name, _LazyRows(spec.hub_id, spec.config, spec.split, spec.revision, spec.streaming))]
    proc = _import(spec.process_docs) if spec.process_docs else None
    for sub, it in parts:
        docs: Iterable[dict] = proc(it) if proc else it
        for i, d in enumerate(itertools.islice(docs, limit)):
            d = dict(d)
            d.setdefault("sub_task", sub)
            key = d.get(spec.id_field) if spec.id_field else None
            d["_id"] = f"{sub}:{key if key not in (None, '') else i}"
            yield d


class _LazyRows:
    def __init__(self, *args):
        self.args = args

    def __iter__(self):
        if self.args[0] is None:
            raise SourceUnavailableError("benchmark has no hub_id")
        return iter(_hub_rows(*self.args))


class _Fields(dict):
    def __missing__(self, key: str) -> str:
        return ""


def _option_lines(doc: dict) -> str:
    import ast

    for k in ("options", "choices", "answer_options"):
        v = doc.get(k)
        if isinstance(v, str) and v.startswith("["):
            try:
                v = ast.literal_eval(v)
            except (ValueError, SyntaxError):
                v = None
        if isinstance(v, list | tuple) and v:
            return "\n".join(f"{string.ascii_uppercase[i]}. {o}" for i, o in enumerate(v) if i < 26)
    return ""


def _as_images(value: Any, base_dir: Path | None, missing: Callable[[str], list[Any]] | None = None) -> list[Any]:
    """The images a doc field holds. ``missing`` is called with a non-empty string that is neither a local file nor
    base64 image data (a path of the benchmark's hub repo, or nothing that can be loaded): it fetches or raises."""
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [x for v in value for x in _as_images(v, base_dir, missing)]
    if isinstance(value, dict):
        if value.get("bytes"):
            return [value["bytes"]]
        value = value.get("path")
        if not value:
            return []
    if isinstance(value, str):
        from vero_data.benchmarks.scoring import resolve_path

        try:
            p = resolve_path(value, base_dir) if len(value) < 4096 else None
        except OSError:  # e.g. a base64 string too long for a file name
            p = None
        if p is not None:
            return [p.read_bytes()]
        found = _base64_image(value)
        if not found and value.strip() and missing is not None:
            return missing(value)
        return found
    if isinstance(value, bytes | bytearray):
        return [bytes(value)]
    return [value]  # PIL image


def _doc_repo(spec: BenchmarkSpec, doc: dict) -> str | None:
    """The hub dataset a doc came from: its subtask's ``hub_id``, else the benchmark's."""
    sub = doc.get("sub_task")
    return next((st.hub_id for st in spec.subtasks if st.name == sub and st.hub_id), None) or spec.hub_id


def _image_loader(spec: BenchmarkSpec, doc: dict) -> Callable[[str], list[Any]]:
    """What ``_as_images`` does with an image path that is not a local file: with ``prompt.hub_images`` it is a file
    of the doc's hub repo, fetched with ``hf_hub_download`` after the leading ``strip_image_prefixes`` folder is
    dropped (lmms-eval visual_probe/utils.py ``_coerce_image``); otherwise, or when that fails, the benchmark stops
    with the reason: a question is never sent without its image (lmms-eval would drop the image and ask it
    text-only, which scores a different task)."""

    def fail(path: str, why: str) -> list[Any]:
        raise SourceUnavailableError(f"{spec.name}: doc {doc.get('_id', '?')}: image {path[:200]!r} {why}; the "
                                     "benchmark is not run without its images")

    def load(path: str) -> list[Any]:
        if not spec.prompt.hub_images:
            return fail(path, "is neither a local file nor image data")
        repo = _doc_repo(spec, doc)
        name = path.replace("\\", "/").lstrip("./")
        for prefix in spec.prompt.strip_image_prefixes:
            if name.startswith(prefix):
                name = name[len(prefix):]
                break
        if not repo:
            return fail(path, "is not a local file and the benchmark names no hub repo")
        try:
            require_hub(repo, f"{spec.name} image {name} in {repo}")
            from huggingface_hub import hf_hub_download

            local = hf_hub_download(repo_id=repo, filename=name, repo_type="dataset", revision=spec.revision)
            data = Path(local).read_bytes()
            from vero_data.images import decode_rgb

            decode_rgb(data, path=name)  # a file that is not a readable image fails here, not in the model
        except Exception as e:  # offline, not in the repo, gated, undecodable
            return fail(path, f"could not be loaded from the hub dataset {repo} ({type(e).__name__}: "
                        f"{' '.join(str(e).split())[:200]})")
        return [data]

    return load


def _base64_image(value: str) -> list[bytes]:
    """A base64-encoded image held in a string field (MME-RealWorld's ``bytes``), else nothing."""
    import base64
    import binascii

    if len(value) < 64:
        return []
    try:
        return [base64.b64decode(value, validate=True)]
    except (binascii.Error, ValueError):
        return []


def build_turn(spec: BenchmarkSpec, doc: dict, base_dir: Path | None = None) -> tuple[list[dict], list[Any]]:
    """The user message (OpenAI-style content parts, images first) and its images (PIL or bytes)."""
    image_fields = spec.prompt.image_fields
    if spec.prompt.builder:  # the fork's doc_to_text, verbatim (no stripping)
        built = _import(spec.prompt.builder)(doc)
        if isinstance(built, list):  # the fork's doc_to_messages: a whole conversation
            return _conversation(spec, built, doc, image_fields, base_dir)
        text, image_fields = built if isinstance(built, tuple) else (built, image_fields)
    else:
        fields = _Fields({k: v for k, v in doc.items() if isinstance(v, str | int | float)})
        fields["options"] = _option_lines(doc)
        text = string.Formatter().vformat(spec.prompt.template, (), fields).strip()
    images: list[Any] = []
    missing = _image_loader(spec, doc)
    for f in image_fields:
        images += _as_images(doc.get(f), base_dir, missing)
    if spec.prompt.require_images and not images:
        raise SourceUnavailableError(f"{spec.name}: doc {doc.get('_id', '?')} has no image in {image_fields}; the "
                                     "benchmark is not run without its images")
    content = [{"type": "image"} for _ in images] + [{"type": "text", "text": text}]
    return [{"role": "user", "content": content}], images


def _conversation(spec: BenchmarkSpec, messages: list[dict], doc: dict, image_fields: list[str],
                  base_dir: Path | None) -> tuple[list[dict], list[Any]]:
    """A builder's message list: each ``{"type": "image"}`` part shows the doc's first image (as the fork's
    doc_to_messages puts ``doc["image"]`` at every image chunk); parts are dropped when the doc has no image."""
    images: list[Any] = []
    missing = _image_loader(spec, doc)
    for f in image_fields:
        images += _as_images(doc.get(f), base_dir, missing)
    out, shown = [], []
    for m in messages:
        content = m["content"]
        if isinstance(content, list):
            content = [p for p in content if p.get("type") != "image" or images]
            shown += [images[0] for p in content if p.get("type") == "image"]
        out.append({**m, "content": content})
    return out, shown


def prompt_text(messages: list[dict]) -> str:
    """The text of the last user message (what a sample record shows as its prompt)."""
    for m in reversed(messages):
        if m.get("role") == "user":
            c = m["content"]
            return c if isinstance(c, str) else "".join(p.get("text", "") for p in c if p.get("type") == "text")
    return ""
