"""`vero bench build`: figures, not pass/fail.

* end-to-end build rows/s on a generated set of ``n`` images vs bare decode+pHash rows/s on the same images, with
  the same number of processes, in the same run (goal: end-to-end ≥ 0.7× bare);
* near-duplicate search time over 100K and 600K 64-bit hashes (goal: sub-quadratic; < 5 min at 600K on 2 cores);
* peak RSS of this process and of its worker processes.

Disk: the generated source, the build's ingest parts and its shards each hold every image once, about
``BYTES_PER_IMAGE`` in all (measured at n=400: 584 KB per image; 50,000 images need ~29 GB). The default ``n`` fits a
laptop; the space is checked before anything is written, and a temp folder is removed on Ctrl-C or SIGTERM (and a
folder left by a killed run is removed by the next run).
"""

from __future__ import annotations

import io
import json
import os
import resource
import shutil
import signal
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np


def _image(rng: np.random.Generator, i: int) -> bytes:
    """A textured chart-like PNG, 480×360 or (every 5th) 800×600: realistic sizes, distinct hashes."""
    from PIL import Image, ImageDraw

    w, h = (800, 600) if i % 5 == 0 else (480, 360)
    base = (rng.random((h // 24, w // 24, 3)) * 90 + 150).astype(np.uint8)
    img = Image.fromarray(base).resize((w, h), Image.Resampling.BILINEAR)
    d = ImageDraw.Draw(img)
    for k in range(int(rng.integers(3, 8))):
        x0, y0 = int(rng.integers(0, w - 60)), int(rng.integers(0, h - 60))
        d.rectangle([x0, y0, x0 + int(rng.integers(20, 60)), y0 + int(rng.integers(20, 60))],
                    fill=tuple(int(c) for c in rng.integers(0, 255, 3)))
        d.text((10 + 40 * k, 10), f"{int(rng.integers(0, 999))}", fill=(0, 0, 0))
    buf = io.BytesIO()
    img.save(buf, "PNG", compress_level=1)
    return buf.getvalue()


def _write_chunk(args) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from vero_data.schema import ARROW_SCHEMA

    start, stop, out, seed = args
    rng = np.random.default_rng([seed, start])
    rows = []
    for i in range(start, stop):
        q = f"What is the value of bar {i % 97} in panel {i}?"
        rows.append({
            "id": str(i), "data_source": "bench", "category": "chart_ocr",
            "prompt": [{"role": "user", "content": "<image>\n" + q}],
            "images": [{"bytes": _image(rng, i), "path": None}], "answer": str(int(rng.integers(0, 1000))),
            "reward_type": "numeric", "extra_info": json.dumps({"question": q}), "split": "train",
            "license": "apache-2.0", "lineage": None, "pass_count": None, "k": None,
        })
    p = Path(out) / f"bench-{start:08d}.parquet"
    pq.write_table(pa.Table.from_pylist(rows, schema=ARROW_SCHEMA), p, row_group_size=100)
    return p


def make_image_source(n: int, out: Path, seed: int = 0, chunk: int = 2000, workers: int = 1) -> list[Path]:
    """Write ``n`` canonical rows (one image each) as Parquet files; returns the files."""
    out.mkdir(parents=True, exist_ok=True)
    jobs = [(s, min(n, s + chunk), str(out), seed) for s in range(0, n, chunk)]
    if workers > 1:
        import multiprocessing as mp

        with mp.get_context("spawn").Pool(workers) as pool:
            return pool.map(_write_chunk, jobs)
    return [_write_chunk(j) for j in jobs]


def _bare_file(path: str) -> int:
    import imagehash
    import pyarrow.parquet as pq

    from vero_data.images import decode_rgb

    n = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=200, columns=["images"]):
        for imgs in batch.column(0).to_pylist():
            im = decode_rgb(imgs[0]["bytes"])  # the build's one decode (EXIF, bit depth, alpha), then the hash
            imagehash.phash(im)
            n += 1
    return n


def bare_decode_phash(files: list[Path], workers: int) -> float:
    """Rows/s of decode + pHash alone over the same files, with ``workers`` processes."""
    t = time.perf_counter()
    if workers > 1:
        import multiprocessing as mp

        with mp.get_context("spawn").Pool(workers) as pool:
            n = sum(pool.map(_bare_file, [str(f) for f in files]))
    else:
        n = sum(_bare_file(str(f)) for f in files)
    return n / (time.perf_counter() - t)


def near_dup_search_seconds(n: int, threshold: int = 6, seed: int = 0) -> dict[str, float]:
    from vero_data.stages.phash_index import near_pairs

    rng = np.random.default_rng(seed)
    h = rng.integers(0, 2**63, n, dtype=np.int64).astype(np.uint64) * np.uint64(2)
    planted = n // 100  # 1% near duplicates
    idx = rng.integers(0, n, planted)
    flips = rng.integers(0, 64, planted)
    h[rng.integers(0, n, planted)] = h[idx] ^ (np.uint64(1) << flips.astype(np.uint64))
    t = time.perf_counter()
    pairs = near_pairs(h, threshold)
    return {"hashes": n, "seconds": round(time.perf_counter() - t, 2), "pairs": int(len(pairs))}


def _reusable_source(src: Path, n: int) -> list[Path] | None:
    """A source left by an earlier run with --out (same n): reuse it instead of rendering 50K images again."""
    import pyarrow.parquet as pq

    files = sorted(src.glob("bench-*.parquet"))
    if files and sum(pq.ParquetFile(f).metadata.num_rows for f in files) == n:
        return files
    return None


BYTES_PER_IMAGE = 600_000  # source + ingest parts + shards (584 KB measured at n=400, 480×360/800×600 PNGs)
DEFAULT_N = 5_000  # ~3 GB of disk, a few minutes on 2 cores
_TMP_PREFIX = "vero-bench-build-"


def disk_needed(n: int) -> int:
    """Bytes a run over ``n`` images writes (see module docstring)."""
    return n * BYTES_PER_IMAGE


def _sweep_stale_temp_dirs() -> list[Path]:
    """Remove temp folders of earlier runs whose process is gone (killed with SIGKILL, power loss)."""
    gone = []
    for d in Path(tempfile.gettempdir()).glob(f"{_TMP_PREFIX}*"):
        try:
            pid = int(d.name.removeprefix(_TMP_PREFIX).split("-", 1)[0])
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(d, ignore_errors=True)
            gone.append(d)
        except (ValueError, PermissionError, OSError):
            continue
    return gone


def check_disk(root: Path, n: int) -> None:
    """Refuse to start when the folder's file system cannot hold the run."""
    from vero_data.errors import ConfigError

    probe = root
    while not probe.exists():
        probe = probe.parent
    free, need = shutil.disk_usage(probe).free, disk_needed(n)
    if free < need * 1.1:
        raise ConfigError(f"vero bench build --n {n:,} needs ~{need / 1e9:.1f} GB in {probe}, which has "
                          f"{free / 1e9:.1f} GB free; lower --n or pass --out on a larger disk")


def run_build_bench(n: int = DEFAULT_N, workers: int = 2, work: Path | None = None,
                    hash_sizes: list[int] | None = None) -> dict[str, Any]:
    """Run the benchmark and return its figures (see module docstring).

    Raises:
        ConfigError: not enough free disk for ``n`` images (checked before anything is written).
    """
    import yaml

    from vero_data.api import build

    if work is None:
        _sweep_stale_temp_dirs()
    check_disk(Path(work) if work else Path(tempfile.gettempdir()), n)
    tmp = tempfile.TemporaryDirectory(prefix=f"{_TMP_PREFIX}{os.getpid()}-") if work is None else None
    root = Path(tmp.name) if tmp else Path(work)

    def on_term(signum, frame):  # SIGTERM (kill, a scheduler's timeout) unwinds like Ctrl-C: the finally cleans up
        raise KeyboardInterrupt

    old_term = signal.signal(signal.SIGTERM, on_term) if tmp else None
    try:
        t = time.perf_counter()
        files = _reusable_source(root / "src", n) or make_image_source(n, root / "src", workers=workers)
        gen_s = time.perf_counter() - t
        manifest = root / "bench.yaml"
        manifest.write_text(yaml.safe_dump({
            "name": "bench", "category": "chart_ocr", "license": "apache-2.0", "adapter": "canonical",
            "source": {"files": {"format": "parquet", "globs": [str(root / "src" / "*.parquet")]}},
            "filters": {"min_rows": 1, "min_avg_pixels": 0},
        }))
        bare = bare_decode_phash(files, workers)
        t = time.perf_counter()
        res = build(out=root / "out", manifests=[str(manifest)], workers=workers, part_rows=500, overwrite=True)
        e2e = res.rows / (time.perf_counter() - t) if res.rows else 0.0
        searches = [near_dup_search_seconds(s) for s in (hash_sizes or [100_000, 600_000])]
        self_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        child_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        return {
            "images": n, "workers": workers, "generate_s": round(gen_s, 1),
            "bare_decode_phash_rows_per_s": round(bare, 1),
            "end_to_end_build_rows_per_s": round(e2e, 1),
            "ratio_end_to_end_over_bare": round(e2e / bare, 3) if bare else None,
            "build_stage_seconds": res.report.get("timings_s"),
            "near_dup_search": searches,
            "peak_rss_mb": {"main": round(self_rss, 1), "largest_worker": round(child_rss, 1)},
        }
    finally:
        if tmp:
            tmp.cleanup()
            signal.signal(signal.SIGTERM, old_term)
