"""Which voice windows belong to the same speaker: pure functions on unit vectors.

Average-linkage agglomerative clustering on cosine similarity (hand-written:
scipy and scikit-learn are not among our dependencies, and this is forty
lines of numpy). With the count unknown, merging stops when the closest
clusters are less alike than `THRESHOLD`; with a count, it stops there.
Clusters with too little voice (a laugh, a jingle, a cough) are folded into
the nearest real speaker, and two passes of nearest-centroid assignment tidy
the edges.

Memory is bounded: at most `MAX_ITEMS` windows (about 20 minutes of speech
at one window per 0.8 s) are clustered directly, an (n, n) float64 matrix of
at most 18 MB; in a longer file an even sample of them is clustered and every
window then goes to the nearest centroid.
"""

from __future__ import annotations

import numpy as np

#: Window-level cosine similarity: one voice ≈ 0.65-0.9, two voices ≈ 0.3-0.55.
THRESHOLD = 0.6
MAX_ITEMS = 1500
#: A cluster with fewer windows than this share of all (and under MIN_WINDOWS) is no speaker.
MIN_SHARE = 0.04
MIN_WINDOWS = 4


def agglomerate(vectors: np.ndarray, count: int | None,
                threshold: float = THRESHOLD) -> np.ndarray:
    """Cluster labels 0..k-1 for each row (unit vectors), average linkage on cosine.

    Each row keeps its best partner, so a merge costs O(n) (plus a rescan of
    the rows whose partner was merged) instead of a search of the whole matrix.
    """
    n = len(vectors)
    if n == 0:
        return np.zeros(0, dtype=int)
    sim = (vectors @ vectors.T).astype(np.float64)
    np.fill_diagonal(sim, -np.inf)
    sizes = np.ones(n)
    members = np.arange(n)
    best = np.argmax(sim, axis=1)
    best_val = sim[np.arange(n), best]
    clusters = n
    target = max(1, count) if count else 1
    while clusters > target:
        a = int(np.argmax(best_val))
        b = int(best[a])
        if not count and best_val[a] < threshold:
            break
        # Lance-Williams update for average linkage: the merged row is the size-weighted mean.
        merged = (sizes[a] * sim[a] + sizes[b] * sim[b]) / (sizes[a] + sizes[b])
        merged[a] = merged[b] = -np.inf
        sim[a], sim[:, a] = merged, merged
        sim[b], sim[:, b] = -np.inf, -np.inf
        sizes[a] += sizes[b]
        members[members == b] = a
        best_val[b] = -np.inf
        clusters -= 1
        stale = np.flatnonzero((best == a) | (best == b))
        for i in (*stale.tolist(), a):
            best[i] = int(np.argmax(sim[i]))
            best_val[i] = sim[i, best[i]]
        better = merged > best_val
        best[better] = a
        best_val[better] = merged[better]
    _, labels = np.unique(members, return_inverse=True)
    return labels


def _centroids(vectors: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    out = np.stack([vectors[labels == i].mean(axis=0) for i in range(k)])
    return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


def _drop_small(vectors: np.ndarray, labels: np.ndarray, keep_at_least: int) -> np.ndarray:
    """Fold clusters with too little voice into the nearest of the others."""
    counts = np.bincount(labels)
    floor = max(MIN_WINDOWS, MIN_SHARE * len(labels))
    by_size = [int(i) for i in np.argsort(-counts, kind="stable")]
    big = [i for i in by_size if counts[i] >= floor]
    if len(big) < keep_at_least or not big:
        big = by_size[:max(1, keep_at_least)]
    if len(big) == len(counts):
        return labels
    cents = _centroids(vectors, labels, len(counts))[big]
    nearest = np.asarray(big)[np.argmax(vectors @ cents.T, axis=1)]
    return np.where(np.isin(labels, big), labels, nearest)


def cluster(vectors: np.ndarray, count: int | None = None,
            threshold: float = THRESHOLD) -> np.ndarray:
    """Speaker labels 0..k-1 for each window, numbered in order of first appearance."""
    n = len(vectors)
    if n == 0:
        return np.zeros(0, dtype=int)
    if count == 1 or n == 1:
        return np.zeros(n, dtype=int)
    sample = np.linspace(0, n - 1, min(n, MAX_ITEMS)).round().astype(int)
    sample = np.unique(sample)
    labels_s = agglomerate(vectors[sample], min(count, len(sample)) if count else None,
                           threshold)
    labels_s = _drop_small(vectors[sample], labels_s, count or 1)
    _, labels_s = np.unique(labels_s, return_inverse=True)
    k = int(labels_s.max()) + 1
    cents = _centroids(vectors[sample], labels_s, k)
    labels = np.argmax(vectors @ cents.T, axis=1)
    for _ in range(2):
        present = np.unique(labels)
        cents = _centroids(vectors, np.searchsorted(present, labels), len(present))
        labels = np.argmax(vectors @ cents.T, axis=1)
    return first_appearance(labels)


def first_appearance(labels: np.ndarray) -> np.ndarray:
    """Relabel so the first speaker heard is 0, the next new one 1, and so on."""
    order: dict[int, int] = {}
    for value in labels.tolist():
        order.setdefault(value, len(order))
    return np.array([order[v] for v in labels.tolist()], dtype=int)
