"""The end of a file in the worker: every voice window of it clustered at once.

The windows of chunks finished in an earlier attempt come back with the
request, so a resumed file is clustered over the same windows as one run
and its speakers keep their numbers. The answer is each window's centre
and speaker (from 1, in order of first appearance): the daemon labels the
words with it (transcripts/speaker_turns.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from voxtrald.engine.speakers.clustering import cluster
from voxtrald.engine.speakers.vectors import unpack
from voxtrald.transcripts.voices import Voice


def speaker_windows(voices: Sequence[Voice], count: int | None
                    ) -> tuple[tuple[float, int], ...]:
    """(centre, speaker) of every window, in time order."""
    ordered = sorted(voices, key=lambda v: v.centre)
    if not ordered:
        return ()
    labels = cluster(unpack(ordered), count)
    return tuple((round(v.centre, 3), int(label) + 1)
                 for v, label in zip(ordered, labels.tolist(), strict=True))
