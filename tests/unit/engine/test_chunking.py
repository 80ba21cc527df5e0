"""Chunk cutting: in silence, nothing lost, nothing repeated; offsets in whole samples."""

from __future__ import annotations

import numpy as np
import pytest

from voxtrald.engine.audio import SAMPLE_RATE
from voxtrald.engine.chunking import chunk_stream, quietest_cut


def tone(seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return (0.5 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)


def test_cut_lands_in_the_silent_gap() -> None:
    audio = np.concatenate([tone(8), np.zeros(SAMPLE_RATE, np.float32), tone(3)])
    cut = quietest_cut(audio, 10 * SAMPLE_RATE, 4 * SAMPLE_RATE)
    assert 8 * SAMPLE_RATE < cut < 9 * SAMPLE_RATE


def test_chunks_cover_every_sample_once() -> None:
    rng = np.random.default_rng(1)
    audio = np.concatenate([np.concatenate([tone(rng.uniform(0.5, 2)),
                                            np.zeros(SAMPLE_RATE // 2, np.float32)])
                            for _ in range(40)])
    blocks = np.array_split(audio, 137)
    chunks = list(chunk_stream(blocks, lambda: 10.0))
    assert len(chunks) >= 5
    joined = np.concatenate([c for _o, c in chunks])
    assert np.array_equal(joined, audio)
    offsets = [o for o, _c in chunks]
    assert offsets == list(np.cumsum([0] + [c.size for _o, c in chunks[:-1]]))
    for _o, c in chunks[:-1]:
        assert 7.4 * SAMPLE_RATE <= c.size <= 10.2 * SAMPLE_RATE
        # Each cut is in a quiet stretch, not mid-tone.
        assert np.abs(c[-200:]).max() < 0.05


def test_chunk_size_is_asked_for_each_chunk() -> None:
    sizes = iter([10.0, 20.0, 10.0, 10.0, 10.0])
    chunks = list(chunk_stream([np.zeros(SAMPLE_RATE * 45, np.float32)], lambda: next(sizes)))
    sizes_s = [c.size / SAMPLE_RATE for _o, c in chunks]
    assert [round(x) for x in sizes_s] == [10, 20, 10, 5]
    assert sum(sizes_s) == pytest.approx(45)


def test_a_resumed_stream_counts_from_its_start_and_cuts_alike() -> None:
    rng = np.random.default_rng(2)
    audio = np.concatenate([np.concatenate([tone(rng.uniform(0.5, 2)),
                                            np.zeros(SAMPLE_RATE // 3, np.float32)])
                            for _ in range(40)])
    full = list(chunk_stream(np.array_split(audio, 50), lambda: 10.0))
    at = full[1][0] + full[1][1].size  # where the third chunk starts
    resumed = list(chunk_stream(np.array_split(audio[at:], 7), lambda: 10.0, start=at))
    assert [o for o, _c in resumed] == [o for o, _c in full[2:]]
    assert all(np.array_equal(a, b) for (_o, a), (_p, b) in zip(resumed, full[2:], strict=True))
