"""A whole file's speakers, from all of its voice windows: cluster, then label words.

Runs where every window of the file is at hand (the daemon, once the last
chunk is in, with the windows of resumed chunks read back from their
checkpoints), so speaker numbers are the same over a long file and across a
crash. Pure: numpy only, no model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from voxtrald.engine.speakers.clustering import cluster
from voxtrald.engine.speakers.turns import Timeline, Turn, label_segments
from voxtrald.transcripts.segments import Segment
from voxtrald.transcripts.voices import Voice


@dataclass(frozen=True)
class Diarized:
    segments: list[Segment]
    count: int
    turns: list[Turn]


def diarize(segments: Sequence[Segment], voices: Sequence[Voice],
            count: int | None = None) -> Diarized:
    """The segments with a speaker on each (split at changes); `count` forces the number."""
    if not voices:
        return Diarized(list(segments), 0, [])
    ordered = sorted(voices, key=lambda v: v.centre)
    vectors = np.stack([v.vector for v in ordered]).astype(np.float32)
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)
    labels = cluster(vectors, count)
    timeline = Timeline([v.centre for v in ordered], labels.tolist())
    labelled = label_segments(segments, timeline)
    heard = {s.speaker for s in labelled if s.speaker is not None}
    return Diarized(labelled, len(heard), timeline.turns())
