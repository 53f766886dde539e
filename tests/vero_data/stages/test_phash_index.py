import numpy as np
import pytest
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from vero_data.stages.phash_index import brute_force_pairs, near_pairs


def _hashes(seed: int, threshold: int, copies: bool) -> np.ndarray:
    rng = np.random.default_rng(seed)
    h = rng.integers(0, 2**63, 1500, dtype=np.int64).astype(np.uint64) * np.uint64(2) + np.uint64(1)
    near = []
    for i in rng.integers(0, len(h), 300):
        v = int(h[i])
        for b in rng.choice(64, rng.integers(1, threshold + 3), replace=False):
            v ^= 1 << int(b)
        near.append(v)
    h = np.concatenate([h, np.array(near, dtype=np.uint64)])
    h = np.unique(h)  # distinct values
    return np.concatenate([h, h[:5]]) if copies else h


@pytest.mark.parametrize("threshold", [0, 3, 6, 10])
def test_distinct_hashes_match_brute_force_exactly(threshold):
    h = _hashes(threshold, threshold, copies=False)
    assert near_pairs(h, threshold).tolist() == brute_force_pairs(h, threshold).tolist()


def _components(n, pairs):
    g = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    return connected_components(g, directed=False)[1]


@pytest.mark.parametrize("threshold", [3, 6])
def test_copies_give_the_same_clusters_as_brute_force(threshold):
    h = _hashes(threshold + 10, threshold, copies=True)
    got, want = near_pairs(h, threshold), brute_force_pairs(h, threshold)
    assert all(np.bitwise_count(h[i] ^ h[j]) <= threshold for i, j in got)  # no false pair
    a, b = _components(len(h), got), _components(len(h), want)
    # same partition: labels map one-to-one
    assert len(set(zip(a.tolist(), b.tolist(), strict=True))) == len(set(a.tolist())) == len(set(b.tolist()))


@pytest.mark.parametrize(("seed", "threshold"), [(0, 6), (1, 6), (2, 3), (3, 10)])
def test_many_shared_hashes_give_every_pair_brute_force_gives(seed, threshold):
    """Text cards share pHashes a lot: a confirmation step that rejects one pair must still see the others, so
    candidates are every pair brute force finds, not one edge per group (issue 12: 9,367 vs 19,199)."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 2**63, size=40, dtype=np.uint64)
    h = base[rng.integers(0, len(base), size=500)]
    flip = np.uint64(1) << rng.integers(0, 64, size=len(h)).astype(np.uint64)
    h = np.where(rng.random(len(h)) < 0.5, h ^ flip, h)
    assert near_pairs(h, threshold).tolist() == brute_force_pairs(h, threshold).tolist()


def test_high_bit_hashes_are_unsigned():
    h = np.array([2**64 - 1, 2**64 - 2, 0], dtype=np.uint64)
    assert near_pairs(h, 1).tolist() == [[0, 1]]
