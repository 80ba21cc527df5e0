"""Clustering voice windows into speakers: pure functions on synthetic unit vectors."""

from __future__ import annotations

import numpy as np
import pytest

from voxtrald.engine.speakers.clustering import THRESHOLD, agglomerate, cluster, first_appearance


def voices(rng: np.random.Generator, centres: np.ndarray, per: list[int],
           spread: float = 0.35) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors scattered around each centre, like windows of one voice."""
    rows, truth = [], []
    for k, n in enumerate(per):
        noisy = centres[k] + spread * rng.standard_normal((n, centres.shape[1])) / np.sqrt(
            centres.shape[1])
        rows.append(noisy)
        truth += [k] * n
    x = np.concatenate(rows)
    return x / np.linalg.norm(x, axis=1, keepdims=True), np.array(truth)


def distinct_centres(rng: np.random.Generator, k: int, dim: int = 256) -> np.ndarray:
    c = rng.standard_normal((k, dim))
    return c / np.linalg.norm(c, axis=1, keepdims=True)


def agreement(labels: np.ndarray, truth: np.ndarray) -> float:
    from itertools import permutations

    ks = sorted(set(labels.tolist()))
    best = 0
    for perm in permutations(sorted(set(truth.tolist())), len(ks)):
        m = dict(zip(ks, perm, strict=True))
        best = max(best, sum(m[a] == b for a, b in zip(labels, truth, strict=True)))
    return best / len(truth)


@pytest.mark.parametrize("k", [2, 3, 4])
def test_the_count_is_found_when_unknown(k: int) -> None:
    rng = np.random.default_rng(k)
    x, truth = voices(rng, distinct_centres(rng, k), [30] * k)
    labels = cluster(x)
    assert len(set(labels.tolist())) == k
    assert agreement(labels, truth) == 1.0


def test_a_count_given_is_obeyed() -> None:
    rng = np.random.default_rng(7)
    x, _ = voices(rng, distinct_centres(rng, 3), [20, 20, 20])
    assert len(set(cluster(x, count=2).tolist())) == 2
    assert set(cluster(x, count=1).tolist()) == {0}


def test_one_voice_stays_one_speaker() -> None:
    rng = np.random.default_rng(1)
    x, _ = voices(rng, distinct_centres(rng, 1), [60])
    assert set(cluster(x).tolist()) == {0}


def test_a_few_odd_windows_are_folded_into_a_real_speaker() -> None:
    """A laugh or a jingle between turns is no third speaker."""
    rng = np.random.default_rng(3)
    centres = distinct_centres(rng, 3)
    x, _ = voices(rng, centres, [50, 50, 2])
    assert len(set(cluster(x).tolist())) == 2


def test_speakers_are_numbered_in_order_of_first_appearance() -> None:
    assert first_appearance(np.array([2, 2, 0, 1, 0])).tolist() == [0, 0, 1, 2, 1]
    rng = np.random.default_rng(5)
    x, truth = voices(rng, distinct_centres(rng, 2), [10, 10])
    labels = cluster(x[::-1].copy())
    assert labels[0] == 0


def test_long_files_are_clustered_on_a_sample_with_bounded_memory() -> None:
    rng = np.random.default_rng(9)
    x, truth = voices(rng, distinct_centres(rng, 2), [2500, 2500])
    order = rng.permutation(len(x))
    labels = cluster(x[order])
    assert agreement(labels, truth[order]) > 0.99


def test_merging_stops_at_the_threshold() -> None:
    a = np.array([[1.0, 0.0], [0.99, 0.141], [0.0, 1.0]])
    a /= np.linalg.norm(a, axis=1, keepdims=True)
    assert agglomerate(a, None, THRESHOLD).tolist() == [0, 0, 1]
    assert cluster(np.zeros((0, 256), np.float32)).tolist() == []
