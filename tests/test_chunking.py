"""Chunk cutting: in silence, nothing lost, nothing repeated; size follows free memory."""

from __future__ import annotations

import numpy as np
import pytest

from voxtrald.audio import SAMPLE_RATE
from voxtrald.chunking import choose_chunk_seconds, chunk_stream, quietest_cut

GB = 1024**3


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
    expected = np.cumsum([0] + [c.size for _o, c in chunks[:-1]]) / SAMPLE_RATE
    assert np.allclose(offsets, expected)
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


@pytest.mark.parametrize(
    ("available", "expected"),
    [(None, 90.0), (0, 60.0), (int(3.99 * GB), 60.0), (4 * GB, 90.0), (int(7.9 * GB), 90.0),
     (8 * GB, 120.0), (64 * GB, 120.0)],
)
def test_chunk_seconds_follow_available_memory(available: int | None, expected: float) -> None:
    assert choose_chunk_seconds(available) == expected
