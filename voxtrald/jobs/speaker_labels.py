"""A finished job's speakers: its segments labelled, and the list its JSON shows.

The worker answers with (centre, speaker) for every voice window of the
file; this applies it to all of the job's segments (resumed chunks
included) and builds `speakers: [{id, label, seconds}]` with any names the
user gave the job.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from voxtrald.transcripts import speakers
from voxtrald.transcripts.segments import Segment
from voxtrald.transcripts.speaker_turns import Timeline, label_segments


def apply(segments: Sequence[Segment], windows: Sequence[tuple[float, int]]) -> list[Segment]:
    """The segments with speakers, split at changes; as they were when none were heard."""
    if not windows:
        return list(segments)
    return label_segments(segments, Timeline(windows))


def meta(segments: Sequence[Segment], names: Mapping[int, str]) -> dict[str, Any]:
    """{"speakers": [...]} for the transcript's metadata, or nothing when unlabelled."""
    listed = speakers.summary(segments, names)
    return {"speakers": listed} if listed else {}
