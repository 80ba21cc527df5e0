"""Where a chunk's work stands, told as a place in its audio, for the progress bar.

A chunk is decoded in steps: a batched first pass over all its windows at once,
then the windows the checks doubt, again one by one, then the speech no word
covers, stretch by stretch. The first pass reaches the chunk's last words long
before the chunk is done; told as it was, the bar jumped to the chunk's end and
stood there while the doubted windows were decoded again.

Here the chunk's audio is shared out among its steps by what each costs
(seconds per window, measured on the chunks before), and each step is told as
it starts: where the bar stands, and where it will stand when the step is done
(`until`). The daemon moves the bar between the two at the speed it measured
(jobs/policy.py). What is not known yet (how many windows will be doubted, how
many stretches uncovered) is counted at its average so far, and the rest of the
chunk is shared out again once it is known. Told positions only move forward.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

#: How much a new measurement moves a running average.
WEIGHT = 0.3
#: The end of a chunk kept for what follows its windows (speaker embeddings, the checkpoint).
FINISH_SHARE = 0.02

Tell = Callable[[float, float], None]  # (position reached, position when the step is done)


def _averaged(old: float, new: float) -> float:
    return old + WEIGHT * (new - old)


@dataclass
class StepCosts:
    """What the steps of a chunk cost, as measured so far: seconds per window or stretch,
    and how many windows are doubted and stretches left uncovered per window."""

    first_pass: float = 1.0
    again: float = 1.5
    cover: float = 0.75
    doubted: float = 0.25
    uncovered: float = 0.25


class ChunkSteps:
    """The steps of one chunk, told through `tell` as they start and end."""

    def __init__(self, tell: Tell, start: float, end: float, costs: StepCosts,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._tell = tell
        self.costs = costs
        self.clock = clock
        self.at = start
        self.until = start
        self.end = end
        self.work_end = start + (end - start) * (1.0 - FINISH_SHARE)
        self.windows = 0
        self.left = 0  # items of the step under way (redecodes, stretches) not done yet
        self._since = clock()

    # -- telling -----------------------------------------------------------------------

    def _announce(self, step: float, later: float) -> None:
        """A step costing `step` starts, `later` is expected after it within the windows:
        its share of the rest of the chunk's span is where the bar will be once it is done."""
        total = step + later
        share = step / total if total > 0 else 1.0
        self.until = self.at + (self.work_end - self.at) * share
        self._since = self.clock()
        self._tell(self.at, self.until)

    def _took(self) -> float:
        return max(0.0, self.clock() - self._since)

    # -- the steps, in order -------------------------------------------------------------

    def first_pass(self, windows: int) -> None:
        """The batched pass over the chunk's `windows` begins."""
        c = self.costs
        self.windows = windows
        self._announce(windows * c.first_pass,
                       windows * (c.doubted * c.again + c.uncovered * c.cover))

    def decode_again(self, count: int) -> None:
        """The first pass is done; `count` of its windows are decoded again, one by one."""
        c, n = self.costs, max(1, self.windows)
        c.first_pass = _averaged(c.first_pass, self._took() / n)
        c.doubted = _averaged(c.doubted, count / n)
        self.at, self.left = self.until, count
        if count:
            self._announce(c.again, (count - 1) * c.again + n * c.uncovered * c.cover)

    def within(self, fraction: float) -> None:
        """Part of the window being decoded again is done (the segments it wrote so far)."""
        fraction = min(1.0, max(0.0, fraction))
        self._tell(self.at + (self.until - self.at) * fraction, self.until)

    def decoded_again(self) -> None:
        """One window is decoded again."""
        c, n = self.costs, max(1, self.windows)
        c.again = _averaged(c.again, self._took())
        self.at, self.left = self.until, max(0, self.left - 1)
        if self.left:
            self._announce(c.again, (self.left - 1) * c.again + n * c.uncovered * c.cover)

    def cover(self, count: int) -> None:
        """`count` stretches of speech no word covers are decoded alone, one by one."""
        c = self.costs
        c.uncovered = _averaged(c.uncovered, count / max(1, self.windows))
        self.at, self.left = max(self.at, self.until), count
        if count:
            self._announce(c.cover, (count - 1) * c.cover)

    def covered_one(self, decoded: bool) -> None:
        """One stretch is done (`decoded`: it was decoded again, not marked a gap at once)."""
        c = self.costs
        if decoded:
            c.cover = _averaged(c.cover, self._took())
        self.at, self.left = self.until, max(0, self.left - 1)
        if self.left:
            self._announce(c.cover, (self.left - 1) * c.cover)

    def finish(self) -> None:
        """The windows are done: what is left of the chunk is its finishing (speakers)."""
        self.at = max(self.at, self.until)
        self.until = self.end
        self._tell(self.at, self.end)


def forward_only(tell: Tell, start: float) -> Tell:
    """`tell` never given a position before one told already: a step may be shared out
    anew, but the bar never moves back."""
    last = [start]

    def told(position: float, until: float) -> None:
        position = max(position, last[0])
        last[0] = position
        tell(position, max(until, position))

    return told
