"""Decontamination: training rows whose image or question matches a benchmark item.

Images match by their pixel digest (``vero_data.images.pixel_digest``: the build's exact-dedup "same image", so a PNG
and a lossless re-encode of it match) or by an identical 64-bit perceptual hash of the pixels as the model sees them
(``vero_data.images.decode_rgb``: survives lossy re-encoding and EXIF rotation); an undecodable image keys on the
sha256 of its bytes;
questions match when at least ``min_overlap`` of the training question's word n-grams occur in a benchmark
question (lower-cased, punctuation dropped, ``<image>`` placeholders removed) — counting only n-grams that are not
template boilerplate. A question template ("How many circles are in the image?") is shared by many benchmark items
and many training rows without any of them being a copy; an n-gram found in ``TEMPLATE_ITEMS`` or more benchmark
items, or in ``TEMPLATE_ROWS`` or more training rows, is boilerplate, so a row whose question matches only on
boilerplate is not flagged unless its image matches too (it is counted as ``template_only``). EvoChart, GameQA,
AerialVG and VisualProbe exist on both sides in Vero, so those are the sources to check first.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

_WORD = re.compile(r"[a-z0-9]+")
TEMPLATE_ITEMS = 3  # an n-gram in this many benchmark items is a template's
TEMPLATE_ROWS = 3  # ... or in this many training rows (a copied item is one row: a build dedups copies)


def _ngrams(text: str, n: int) -> set[tuple[str, ...]]:
    toks = _WORD.findall(str(text).replace("<image>", " ").lower())
    if len(toks) < n:
        return {tuple(toks)} if toks else set()
    return {tuple(toks[i : i + n]) for i in range(len(toks) - n + 1)}


def _image_bytes(img: Any) -> bytes | None:
    if img is None:
        return None
    if isinstance(img, dict):
        if img.get("bytes"):
            return bytes(img["bytes"])
        if img.get("path") and Path(img["path"]).exists():
            return Path(img["path"]).read_bytes()
        return None
    if isinstance(img, bytes | bytearray):
        return bytes(img)
    if hasattr(img, "save"):
        buf = io.BytesIO()
        img.save(buf, format="PNG")
        return buf.getvalue()
    return None


def image_keys(img: Any) -> set[str]:
    """``px:<hex>`` (pixel digest) and ``phash:<hex>`` keys of one image (phash skipped for flat images); an
    undecodable image has only ``sha:<hex>`` of its bytes."""
    data = _image_bytes(img)
    if data is None:
        return set()
    try:
        import imagehash

        from vero_data.images import decode_rgb, rgb_digest

        # the pixels the model is shown (EXIF orientation, 16-bit grey scaled, transparency on white), so a rotated
        # photo matches its transposed copy and a 16-bit chart is not taken for a flat white image
        rgb = decode_rgb(img if hasattr(img, "save") else data)
    except Exception:  # undecodable: its bytes still match a byte-identical copy
        return {"sha:" + hashlib.sha256(data).hexdigest()}
    keys = {"px:" + rgb_digest(rgb)}
    im = rgb.convert("L")
    if im.getextrema()[0] != im.getextrema()[1]:  # flat images all share one phash
        keys.add("phash:" + str(imagehash.phash(im)))
    return keys


def _row_question(row: dict) -> str:
    p = row.get("prompt")
    if isinstance(p, list):
        return " ".join(str(m.get("content", "")) for m in p if isinstance(m, dict) and m.get("role") == "user")
    for k in ("question", "query", "Question", "prompt", "instruction", "text"):
        if row.get(k):
            return str(row[k])
    return ""


def _row_images(row: dict) -> list[Any]:
    out: list[Any] = []
    for k in ("images", "image", "decoded_image", "image_1", "image_2", "image_3", "image_4"):
        v = row.get(k)
        if v is None:
            continue
        out.extend(v if isinstance(v, list | tuple) else [v])
    return out


class BenchmarkIndex:
    """Image keys and question n-grams of benchmark items, with the item each came from."""

    def __init__(self, n: int = 8):
        self.n = n
        self.images: dict[str, str] = {}
        self.grams: dict[tuple[str, ...], str] = {}
        self.gram_items: dict[tuple[str, ...], int] = {}  # benchmark items holding each n-gram
        self.items = 0

    def add(self, benchmark: str, doc: dict) -> None:
        ref = f"{benchmark}:{doc.get('_id', self.items)}"
        self.items += 1
        for img in _row_images(doc):
            for k in image_keys(img):
                self.images.setdefault(k, ref)
        for g in _ngrams(_row_question(doc), self.n):
            self.grams.setdefault(g, ref)
            self.gram_items[g] = self.gram_items.get(g, 0) + 1

    def image_hits(self, row: dict) -> list[dict[str, str]]:
        return [{"key": k.split(":")[0], "item": self.images[k]}
                for img in _row_images(row) for k in image_keys(img) if k in self.images]

    def shared_grams(self, row: dict) -> tuple[list[tuple[str, ...]], int]:
        """The row question's n-grams found in benchmark questions, and how many n-grams it has."""
        grams = _ngrams(_row_question(row), self.n)
        return [g for g in grams if g in self.grams], len(grams)

    def question_hit(self, shared: list[tuple[str, ...]], n_grams: int, min_overlap: float,
                     boilerplate=lambda g: False) -> dict[str, Any] | None:
        """The question reason for a row whose question shares ``shared`` of its ``n_grams`` n-grams, counting
        only those that are not ``boilerplate``, or None below ``min_overlap``."""
        distinct = [g for g in shared if not boilerplate(g)]
        frac = len(distinct) / n_grams if n_grams else 0.0
        if distinct and frac >= min_overlap:
            return {"overlap": round(frac, 3), "item": self.grams[distinct[0]]}
        return None


def iter_training_rows(paths: Iterable[str | Path]) -> Iterator[dict]:
    """Rows of Parquet shards (files or folders) or JSONL files."""
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    from vero_data.errors import ConfigError

    for p in paths:
        p = Path(p)
        if p.is_dir() and (p / "data").is_dir() and any((p / "data").glob("*.parquet")):
            p = p / "data"  # a `vero data build` output: its shards, not .run/ intermediates or the quarantine
        if p.is_dir():
            files = [f for f in sorted(p.rglob("*.parquet")) + sorted(p.rglob("*.jsonl"))
                     if not any(part.startswith(".") for part in f.relative_to(p).parts)
                     and "quarantine" not in f.name and f.name != "completions.parquet"]
        elif p.is_file():
            files = [p]
        else:
            raise ConfigError(f"--data {p}: no such file or folder")
        for f in files:
            if f.suffix == ".jsonl":
                try:
                    lines = f.read_text(encoding="utf-8").splitlines()
                except (OSError, UnicodeDecodeError) as e:
                    raise ConfigError(f"{f}: not a readable UTF-8 JSONL file ({e})") from None
                for i, line in enumerate(lines, 1):
                    if line.strip():
                        try:
                            row = json.loads(line)
                        except ValueError as e:
                            raise ConfigError(f"{f}:{i}: not JSON ({e})") from None
                        if not isinstance(row, dict):
                            raise ConfigError(f"{f}:{i}: not a JSON object")
                        yield row
            else:
                try:
                    pf = pq.ParquetFile(f)
                    batches = pf.iter_batches(batch_size=256)
                    for batch in batches:
                        yield from batch.to_pylist()
                except (OSError, ValueError, pa.ArrowException) as e:  # ArrowInvalid is a ValueError
                    raise ConfigError(f"{f}: not a readable Parquet file ({' '.join(str(e).split())[:200]})") from None


def find_contamination(rows: Iterable[dict], benchmark_docs: dict[str, Iterable[dict]], n: int = 8,
                       min_overlap: float = 0.5) -> dict[str, Any]:
    """Flag training rows matching any benchmark item.

    Args:
        rows: training rows (canonical schema, or anything with question/prompt and images).
        benchmark_docs: benchmark name → its docs.
        n: word n-gram size for question matching.
        min_overlap: share of the training question's n-grams that must occur in benchmark questions.

    Returns:
        ``{"checked": k, "flagged": [{"id", "source", "image"?, "question"?}], "benchmark_items": m,
        "template_only": t}`` — t rows not flagged whose question matched benchmark questions only on template n-grams.

    One pass: rows with any shared n-gram are kept as candidates while the training-side count of each benchmark
    n-gram grows; the template rule is applied to the candidates at the end.
    """
    idx = BenchmarkIndex(n)
    for name, docs in benchmark_docs.items():
        for d in docs:
            idx.add(name, d)
    from vero_data.progress import progress_bar

    candidates: list[tuple[dict, list[dict], list, int]] = []
    row_count: dict[tuple[str, ...], int] = {}
    checked = 0
    with progress_bar() as prog:
        task = prog.add_task("contamination: training rows", total=None, rate="")
        for r in rows:
            checked += 1
            img = idx.image_hits(r)
            shared, n_grams = idx.shared_grams(r)
            for g in shared:
                row_count[g] = row_count.get(g, 0) + 1
            if img or shared:
                lineage = r.get("lineage") if isinstance(r.get("lineage"), dict) else {}
                src = r.get("data_source") or lineage.get("source") or lineage.get("manifest")
                candidates.append(({"id": r.get("id", checked - 1), "source": src}, img, shared, n_grams))
            prog.advance(task)

    def boilerplate(g) -> bool:
        return idx.gram_items[g] >= TEMPLATE_ITEMS or row_count[g] >= TEMPLATE_ROWS

    flagged, template_only = [], 0
    for head, img, shared, n_grams in candidates:
        q = idx.question_hit(shared, n_grams, min_overlap, boilerplate)
        if not q and not img and idx.question_hit(shared, n_grams, min_overlap):
            template_only += 1
        if img or q:
            flagged.append({**head, **({"image": img} if img else {}), **({"question": q} if q else {})})
    return {"checked": checked, "flagged": flagged, "benchmark_items": idx.items, "template_only": template_only}
