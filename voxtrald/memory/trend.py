"""How fast memory use is moving, and how long until critical at that pace.

A least-squares slope over the last minute rather than first-to-last, so one
odd sample (a short-lived allocation) does not swing the figure.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from voxtrald.bodies import MemoryTrend
from voxtrald.memory.figures import MiB

WINDOW_SECONDS = 60.0
# Below this span the slope is mostly noise; report nothing rather than a guess.
MIN_SPAN_SECONDS = 2.0


def slope(points: Iterable[tuple[float, float]]) -> float | None:
    """Least-squares slope of (t, y) points; None with fewer than two distinct times."""
    pts = list(points)
    if len(pts) < 2:
        return None
    n = len(pts)
    mean_t = sum(t for t, _ in pts) / n
    mean_y = sum(y for _, y in pts) / n
    var = sum((t - mean_t) ** 2 for t, _ in pts)
    if var == 0:
        return None
    return sum((t - mean_t) * (y - mean_y) for t, y in pts) / var


def seconds_to(target: float, now: float, rate: float | None) -> float | None:
    """Seconds until `now` reaches `target` at `rate` per second; None unless rising toward it."""
    if rate is None or rate <= 0 or now >= target:
        return None
    return (target - now) / rate


class Trend:
    """A one-minute window of (monotonic time, bytes used) samples."""

    def __init__(self, window: float = WINDOW_SECONDS) -> None:
        self.window = window
        self._points: deque[tuple[float, int]] = deque()

    def add(self, when: float, used: int) -> None:
        self._points.append((when, used))
        while self._points and when - self._points[0][0] > self.window:
            self._points.popleft()

    def clear(self) -> None:
        self._points.clear()

    def rate(self) -> float | None:
        """Bytes per second, or None while the window spans too little time."""
        if len(self._points) < 2 or self._points[-1][0] - self._points[0][0] < MIN_SPAN_SECONDS:
            return None
        return slope(self._points)

    def report(self, used: int, critical_used: float) -> MemoryTrend:
        rate = self.rate()
        eta = seconds_to(critical_used, used, rate)
        span = self._points[-1][0] - self._points[0][0] if self._points else 0.0
        return MemoryTrend(
            rate_mb_per_s=None if rate is None else round(rate / MiB, 3),
            seconds_to_critical=None if eta is None else round(eta, 1),
            window_seconds=round(span, 1),
        )
