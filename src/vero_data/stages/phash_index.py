"""Sub-quadratic near-duplicate search over 64-bit perceptual hashes (multi-index hashing).

Split each hash into ``m`` chunks of ``64/m`` bits. If two hashes differ in at most ``t`` bits, some chunk differs
in at most ``t // m`` bits (pigeonhole), so candidates come from probing each chunk's sorted table with every
flip mask of weight ≤ ``t // m``; each candidate pair is then verified on the full 64 bits. This is the
construction of FAISS ``IndexBinaryMultiHash`` (and pyMIH); BK-trees degrade badly at radius 6
(../shared/spec/pitfalls.md §5). All work is vectorised numpy: sort + searchsorted per probe.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np


def _flip_masks(bits: int, radius: int) -> np.ndarray:
    masks = [0]
    for r in range(1, radius + 1):
        for pos in combinations(range(bits), r):
            masks.append(sum(1 << p for p in pos))
    return np.array(masks, dtype=np.int64)


def near_pairs(hashes: np.ndarray, threshold: int, chunks: int = 4) -> np.ndarray:
    """All index pairs ``(i, j)``, ``i < j``, whose 64-bit hashes differ in ≤ ``threshold`` bits: exactly the
    pairs a brute-force O(n²) search returns (tested against :func:`brute_force_pairs`).

    The search runs over the distinct hashes; the result is expanded back to every pair of rows, so k copies of one
    hash give all k·(k−1)/2 pairs (a confirmation step that rejects one of them must still see the others).
    Returns an ``(n_pairs, 2)`` int64 array, sorted.

    >>> near_pairs(np.array([0b0, 0b111, 0b1, 1 << 63, 0b1], dtype=np.uint64), 2).tolist()
    [[0, 2], [0, 4], [2, 4]]
    """
    h = np.asarray(hashes, dtype=np.uint64)
    if len(h) < 2:
        return np.zeros((0, 2), dtype=np.int64)
    uniq, inverse = np.unique(h, return_inverse=True)
    order = np.argsort(inverse, kind="stable")  # row indices grouped by distinct hash
    starts = np.searchsorted(inverse[order], np.arange(len(uniq)))
    ends = np.r_[starts[1:], len(order)]
    pairs = []
    for g in np.nonzero(ends - starts > 1)[0]:  # rows sharing one hash: every pair
        members = order[starts[g]:ends[g]]
        i, j = np.triu_indices(len(members), k=1)
        pairs.append(np.stack([members[i], members[j]], axis=1))
    if len(uniq) > 1:
        up = _unique_near_pairs(uniq, threshold, chunks)
        for u, v in up:  # rows of two close hashes: every cross pair
            a, b = order[starts[u]:ends[u]], order[starts[v]:ends[v]]
            pairs.append(np.stack([np.repeat(a, len(b)), np.tile(b, len(a))], axis=1))
    if not pairs:
        return np.zeros((0, 2), dtype=np.int64)
    out = np.sort(np.concatenate(pairs).astype(np.int64), axis=1)
    return np.unique(out, axis=0)


def _unique_near_pairs(h: np.ndarray, threshold: int, chunks: int) -> np.ndarray:
    bits = 64 // chunks
    radius = threshold // chunks
    masks = _flip_masks(bits, radius)
    chunk_mask = np.uint64((1 << bits) - 1)
    found = []
    for c in range(chunks):
        key = ((h >> np.uint64(bits * c)) & chunk_mask).astype(np.int64)
        order = np.argsort(key, kind="stable")
        sk = key[order]
        for flip in masks:
            q = key ^ flip
            lo = np.searchsorted(sk, q, "left")
            hi = np.searchsorted(sk, q, "right")
            cnt = hi - lo
            sel = np.nonzero(cnt)[0]
            if not len(sel):
                continue
            c_sel = cnt[sel]
            qi = np.repeat(sel, c_sel)
            starts = np.repeat(lo[sel], c_sel)
            offs = np.arange(len(qi)) - np.repeat(np.cumsum(c_sel) - c_sel, c_sel)
            cj = order[starts + offs]
            keep = qi < cj
            qi, cj = qi[keep], cj[keep]
            if not len(qi):
                continue
            d = np.bitwise_count(h[qi] ^ h[cj])
            ok = d <= threshold
            if ok.any():
                found.append(np.stack([qi[ok], cj[ok]], axis=1))
    if not found:
        return np.zeros((0, 2), dtype=np.int64)
    return np.unique(np.concatenate(found), axis=0)


def brute_force_pairs(hashes: np.ndarray, threshold: int) -> np.ndarray:
    """Reference O(n²) search, for tests and the benchmark's baseline."""
    h = np.asarray(hashes, dtype=np.uint64)
    i, j = np.triu_indices(len(h), k=1)
    d = np.bitwise_count(h[i] ^ h[j])
    ok = d <= threshold
    return np.stack([i[ok], j[ok]], axis=1).astype(np.int64)
