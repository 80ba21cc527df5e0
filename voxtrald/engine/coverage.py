"""Speech no word covers: found after decoding, decoded again alone, or marked as a gap.

A transcript may be uncertain, but it never loses speech silently. After a
chunk is decoded, every stretch of voiced audio (Silero) of at least
MIN_GAP_SECONDS that no kept word covers is decoded once more on its own
(fallback.py); what still yields no text becomes a gap: a Segment with no
text, flagged GAP and with the reason, which the outputs show as
`[inaudible]` and list in the JSON's `gaps`, and which the job reports as a
warning. Gaps travel with the chunk's segments, so a resumed job keeps them.

Pure functions on seconds in the file.
"""

from __future__ import annotations

from collections.abc import Sequence

from voxtrald.engine.checks import VAD_PAD_SECONDS
from voxtrald.engine.spans import Span, merge
from voxtrald.transcripts.segments import GAP_FLAG, GAP_REASONS, Segment

#: Voiced stretches shorter than this are not worth a decode of their own.
MIN_GAP_SECONDS = 1.0
#: Uncovered stretches closer than this are decoded (and reported) as one.
JOIN_SECONDS = 1.0


def subtract(spans: Sequence[Span], cut: Sequence[Span]) -> list[Span]:
    """`spans` with every part inside `cut` removed."""
    out: list[Span] = []
    holes = merge(cut)
    for start, end in merge(spans):
        pos = start
        for h_start, h_end in holes:
            if h_end <= pos or h_start >= end:
                continue
            if h_start > pos:
                out.append((pos, h_start))
            pos = max(pos, h_end)
            if pos >= end:
                break
        if pos < end:
            out.append((pos, end))
    return out


def uncovered(voiced: Sequence[Span], segments: Sequence[Segment],
              min_seconds: float = MIN_GAP_SECONDS) -> list[Span]:
    """Stretches of voiced audio that no word of a shown segment covers.

    Voiced spans carry Silero's pad and words are widened by the same, so a
    pause between words is not a gap. Close stretches are joined; stretches
    shorter than `min_seconds` are left out.
    """
    words = [(w.start - VAD_PAD_SECONDS, w.end + VAD_PAD_SECONDS)
             for s in segments if not s.removed and not s.is_gap for w in s.words]
    # Segments without word timings cover their whole time.
    words += [(s.start, s.end) for s in segments
              if not s.removed and not s.is_gap and not s.words and s.text.strip()]
    left = subtract(voiced, words)
    joined: list[Span] = []
    for start, end in left:
        if joined and start - joined[-1][1] < JOIN_SECONDS:
            joined[-1] = (joined[-1][0], end)
        else:
            joined.append((start, end))
    return [(round(a, 3), round(b, 3)) for a, b in joined if b - a >= min_seconds]


def gap(start: float, end: float, reason: str) -> Segment:
    """A stretch of speech that could not be transcribed, as a Segment the outputs mark."""
    if reason not in GAP_REASONS:
        raise ValueError(f"unknown gap reason {reason!r}")
    return Segment(start=round(start, 3), end=round(end, 3), text="", flags=(GAP_FLAG, reason))
