"""From labelled voice windows to speaker turns, and every word to its speaker.

Pure functions, in the daemon (no numpy): the worker says which speaker each
window's centre belongs to, and this labels every segment of the file with
it, those of resumed chunks included. A moment belongs to the window whose
centre is nearest (a lone window between two of another speaker is first taken as noise and
given theirs); a word takes the speaker that holds most of its time
(sampled at its start, middle and end); a segment is split where the
speaker of its words changes. Numbers start at 1, as users count.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace

from voxtrald.transcripts.segments import Segment, Word


@dataclass(frozen=True)
class Turn:
    start: float
    end: float
    speaker: int  # 1-based


def smooth(labels: Sequence[int]) -> list[int]:
    """A single window whose two neighbours agree on another speaker takes theirs."""
    out = list(labels)
    for i in range(1, len(out) - 1):
        if labels[i - 1] == labels[i + 1] != labels[i]:
            out[i] = labels[i - 1]
    return out


class Timeline:
    """Who speaks at any moment, from window centres and their (0-based) labels."""

    def __init__(self, windows: Sequence[tuple[float, int]], half_width: float = 0.8) -> None:
        """`windows`: (centre in seconds, speaker from 1) of each voice window."""
        ordered = sorted(windows)
        self.centres = [float(c) for c, _ in ordered]
        self.labels = smooth([int(s) for _, s in ordered])
        self.half_width = half_width

    def __bool__(self) -> bool:
        return bool(len(self.centres))

    def at(self, t: float) -> int:
        i = bisect_left(self.centres, t)
        if i <= 0:
            return self.labels[0]
        if i >= len(self.centres):
            return self.labels[-1]
        before, after = t - self.centres[i - 1], self.centres[i] - t
        return self.labels[i - 1] if before <= after else self.labels[i]

    def over(self, start: float, end: float) -> int:
        """The speaker holding most of [start, end]."""
        if end <= start:
            return self.at(start)
        votes = Counter(self.at(t) for t in (start, (start + end) / 2, end))
        return votes.most_common(1)[0][0]

    def turns(self) -> list[Turn]:
        """Contiguous runs of one speaker: each window covers its own 1.6 s, and where two
        windows overlap the boundary is halfway between their centres."""
        out: list[Turn] = []
        half = self.half_width
        for centre, label in zip(self.centres, self.labels, strict=True):
            start, end = max(0.0, centre - half), centre + half
            if out and start < out[-1].end:
                if out[-1].speaker == label:
                    out[-1] = Turn(out[-1].start, end, label)
                    continue
                middle = max(out[-1].start, (centre + out[-1].end - half) / 2)
                out[-1] = Turn(out[-1].start, middle, out[-1].speaker)
                start = middle
            out.append(Turn(start, end, label))
        return [t for t in out if t.end > t.start]


def _text(words: Sequence[Word]) -> str:
    return "".join(w.word for w in words).strip()


def label_segment(segment: Segment, timeline: Timeline) -> list[Segment]:
    """The segment with every word labelled, split where the speaker changes."""
    if not segment.words:
        return [replace(segment, speaker=timeline.over(segment.start, segment.end))]
    words = [replace(w, speaker=timeline.over(w.start, w.end)) for w in segment.words]
    runs: list[list[Word]] = [[words[0]]]
    for word in words[1:]:
        if word.speaker == runs[-1][-1].speaker:
            runs[-1].append(word)
        else:
            runs.append([word])
    if len(runs) == 1:
        return [replace(segment, words=tuple(words), speaker=words[0].speaker)]
    out = []
    for i, run in enumerate(runs):
        start = segment.start if i == 0 else run[0].start
        end = segment.end if i == len(runs) - 1 else run[-1].end
        out.append(replace(segment, start=start, end=end, text=_text(run), words=tuple(run),
                           speaker=run[0].speaker))
    return out


def label_segments(segments: Sequence[Segment], timeline: Timeline) -> list[Segment]:
    if not timeline:
        return list(segments)
    return [piece for seg in segments for piece in label_segment(seg, timeline)]
