"""Speech that could not be transcribed: listed for the JSON, told as a job warning.

The engine marks such stretches as gap segments (`Segment.is_gap`); this is
where they are turned into what a person reads: `gaps: [{start, end,
reason}]` in the JSON, and one warning for the job ("14.2 s of speech could
not be transcribed: 0:03-0:17"), which `voxtrald jobs`, `/api/jobs` and the
tray's notice show. Pure functions.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from voxtrald.transcripts.segments import GAP_REASONS, INAUDIBLE, Segment

#: The warning names at most this many stretches, then how many more.
LISTED = 4


def gaps_of(segments: Iterable[Segment]) -> list[Segment]:
    return [s for s in segments if s.is_gap]


def gap_docs(segments: Iterable[Segment]) -> list[dict[str, Any]]:
    """The JSON's `gaps`: where, and why in words a person understands."""
    return [{"start": round(g.start, 3), "end": round(g.end, 3),
             "reason": GAP_REASONS.get(g.gap_reason or "", GAP_REASONS["no_text"])}
            for g in gaps_of(segments)]


def clock(seconds: float) -> str:
    """0:03, 1:02:07: a time as a person reads it in a player."""
    total = max(0, int(seconds))
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def warning(segments: Sequence[Segment]) -> str | None:
    """One line for the job, or None when every stretch of speech has text."""
    found = gaps_of(segments)
    if not found:
        return None
    seconds = sum(g.end - g.start for g in found)
    where = ", ".join(f"{clock(g.start)}\u2013{clock(g.end)}" for g in found[:LISTED])
    if len(found) > LISTED:
        where += f" and {len(found) - LISTED} more"
    return (f"{seconds:.1f} s of speech could not be transcribed: {where} "
            f"(marked {INAUDIBLE})")


def warnings(segments: Sequence[Segment]) -> tuple[str, ...]:
    """The gap warning as a tuple to add to a job's warnings (empty without gaps)."""
    note = warning(segments)
    return (note,) if note else ()


def marked(segments: Iterable[Segment], mark: bool) -> list[Segment]:
    """The segments as txt/srt/vtt show them: a gap as `[inaudible]`, or left out."""
    out = []
    for seg in segments:
        if seg.is_gap:
            if mark:
                out.append(replace(seg, text=" " + INAUDIBLE))
            continue
        out.append(seg)
    return out
