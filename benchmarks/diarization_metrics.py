"""Scores for speaker labels against a known truth: words right, count right, DER.

Pure functions. Labels are compared after the best one-to-one mapping of
hypothesis speakers to true ones (tried exhaustively: at most a handful of
speakers). DER is frame-based at 10 ms with a forgiveness collar around
every true boundary (0.25 s each side by default), as NIST md-eval does.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import permutations

import numpy as np

Span = tuple[float, float, int]
STEP = 0.01


def truth_at(turns: Sequence[Span], t: float) -> int:
    """The true speaker at t (the nearest turn's when t falls in a pause)."""
    best, gap = turns[0][2], float("inf")
    for start, end, who in turns:
        if start <= t <= end:
            return who
        d = min(abs(t - start), abs(t - end))
        if d < gap:
            best, gap = who, d
    return best


def best_mapping(pairs: Sequence[tuple[int, int]]) -> dict[int, int]:
    """hypothesis → truth maximising agreement over (hyp, truth) pairs."""
    hyps = sorted({h for h, _ in pairs})
    truths = sorted({t for _, t in pairs})
    counts = {(h, t): 0 for h in hyps for t in truths}
    for h, t in pairs:
        counts[(h, t)] += 1
    best: dict[int, int] = {}
    best_score = -1
    pad = truths + [-1 - i for i in range(max(0, len(hyps) - len(truths)))]
    for perm in permutations(pad, len(hyps)):
        score = sum(counts.get((h, t), 0) for h, t in zip(hyps, perm, strict=True))
        if score > best_score:
            best_score, best = score, dict(zip(hyps, perm, strict=True))
    return best


def word_accuracy(words: Sequence[tuple[float, float, int]], turns: Sequence[Span]) -> float:
    """Share of words (start, end, hyp speaker) whose speaker is right after the best mapping."""
    if not words:
        return 0.0
    pairs = [(h, truth_at(turns, (s + e) / 2)) for s, e, h in words]
    mapping = best_mapping(pairs)
    return sum(mapping.get(h) == t for h, t in pairs) / len(pairs)


def _frames(spans: Sequence[Span], n: int) -> np.ndarray:
    out = np.full(n, -1, dtype=int)
    for start, end, who in spans:
        out[int(round(start / STEP)):int(round(end / STEP))] = who
    return out


def der(reference: Sequence[Span], hypothesis: Sequence[Span], collar: float = 0.25) -> float:
    """Diarization error rate: (missed + false alarm + confusion) / reference speech."""
    end = max([e for _, e, _ in reference] + [e for _, e, _ in hypothesis] + [0.0])
    n = int(round(end / STEP)) + 1
    ref, hyp = _frames(reference, n), _frames(hypothesis, n)
    scored = np.ones(n, dtype=bool)
    c = int(round(collar / STEP))
    for start, stop, _ in reference:
        for edge in (start, stop):
            i = int(round(edge / STEP))
            scored[max(0, i - c):i + c] = False
    ref, hyp = ref[scored], hyp[scored]
    both = (ref >= 0) & (hyp >= 0)
    mapping = best_mapping(list(zip(hyp[both].tolist(), ref[both].tolist(), strict=True)))
    mapped = np.array([mapping.get(h, -2) if h >= 0 else -1 for h in hyp.tolist()])
    speech = int((ref >= 0).sum())
    missed = int(((ref >= 0) & (hyp < 0)).sum())
    false_alarm = int(((ref < 0) & (hyp >= 0)).sum())
    confusion = int(((ref >= 0) & (hyp >= 0) & (mapped != ref)).sum())
    return (missed + false_alarm + confusion) / speech if speech else 0.0
