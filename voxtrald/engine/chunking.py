"""Cutting a stream of samples into chunks the model can take one at a time.

A cut through a word garbles it on both sides, so each chunk ends at the
quietest short stretch near its nominal length, not at the exact sample
count; the remainder opens the next chunk and nothing is dropped or repeated.
Offsets are whole samples, so a chunk's end is an exact place to resume from.
How long a chunk should be is memory's decision (`memory.chunks.chunk_seconds`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import numpy as np

from voxtrald.engine.audio import SAMPLE_RATE

QUIET_WINDOW_S = 0.2
SEARCH_FRACTION = 0.25
MAX_SEARCH_S = 15.0


def quietest_cut(samples: np.ndarray, target: int, search: int) -> int:
    """Index at the middle of the quietest window in [target - search, target]."""
    win = int(QUIET_WINDOW_S * SAMPLE_RATE)
    usable = (min(search, target) // win) * win
    if usable < 2 * win:
        return target
    lo = target - usable  # windows end exactly at target
    energy = np.square(samples[lo:target], dtype=np.float32).reshape(-1, win).mean(axis=1)
    # Prefer the latest of near-equal quiet windows so chunks stay close to target length.
    best = int(np.flatnonzero(energy <= energy.min() * 1.05 + 1e-9)[-1])
    return lo + best * win + win // 2


def chunk_stream(
    blocks: Iterable[np.ndarray], chunk_seconds: Callable[[], float], start: int = 0
) -> Iterator[tuple[int, np.ndarray]]:
    """Yield (offset_in_samples, samples) chunks; `chunk_seconds` is asked afresh for each.

    `start` is the sample index of the first block's first sample (a resumed run).
    """
    pending: list[np.ndarray] = []
    pending_len = 0
    offset = start
    target = int(chunk_seconds() * SAMPLE_RATE)
    for block in blocks:
        pending.append(block)
        pending_len += block.size
        while pending_len >= target + int(QUIET_WINDOW_S * SAMPLE_RATE):
            buf = np.concatenate(pending)
            search = int(min(MAX_SEARCH_S * SAMPLE_RATE, target * SEARCH_FRACTION))
            cut = quietest_cut(buf, target, search)
            yield offset, buf[:cut]
            offset += cut
            rest = buf[cut:].copy()
            del buf
            pending, pending_len = [rest], rest.size
            target = int(chunk_seconds() * SAMPLE_RATE)
    if pending_len:
        yield offset, np.concatenate(pending)

