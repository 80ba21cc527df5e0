"""Stretches of time as (start, end) seconds: merged, overlapped, added up.

The checks, the coverage pass and the loop guard all compare where words are
with where Silero hears speech; they share these few pure functions.
"""

from __future__ import annotations

from collections.abc import Sequence

Span = tuple[float, float]


def merge(spans: Sequence[Span]) -> list[Span]:
    """Overlapping or touching spans joined, in order; empty ones dropped."""
    out: list[Span] = []
    for start, end in sorted(s for s in spans if s[1] > s[0]):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def overlap(spans: Sequence[Span], others: Sequence[Span]) -> float:
    """Seconds of `spans` that lie inside `others` (both merged first)."""
    a, b = merge(spans), merge(others)
    found, j = 0.0, 0
    for start, end in a:
        while j < len(b) and b[j][1] <= start:
            j += 1
        k = j
        while k < len(b) and b[k][0] < end:
            found += max(0.0, min(end, b[k][1]) - max(start, b[k][0]))
            k += 1
    return found


def total(spans: Sequence[Span]) -> float:
    """Seconds covered by the spans, each moment counted once."""
    return sum(end - start for start, end in merge(spans))
