"""What the daemon is doing right now, for the API and the service watchdog.

Two small thread-safe holders: the heartbeat (proof that the scheduler still
makes its rounds, with room for a long model load) and the running job's live
progress (kept in memory; the store gets it only every half second).
"""

from __future__ import annotations

import threading
import time

from voxtrald import bodies
from voxtrald.events import utc_now_iso
from voxtrald.store.jobs import Job

# The scheduler beats at least every second; this long without a beat means it hangs.
HEARTBEAT_LIMIT = 60.0


class Heartbeat:
    def __init__(self, limit: float = HEARTBEAT_LIMIT) -> None:
        self.limit = limit
        self._last = time.monotonic()
        self._busy_until = 0.0

    def beat(self) -> None:
        self._last = time.monotonic()

    def allow(self, seconds: float) -> None:
        """Something legitimately long (a model load) follows: no beats for `seconds`."""
        self._busy_until = time.monotonic() + seconds

    def done_waiting(self) -> None:
        self._busy_until = 0.0
        self.beat()

    def fresh(self) -> bool:
        now = time.monotonic()
        return now - self._last < self.limit or now < self._busy_until


class CurrentJob:
    """The running job's id, file and progress, or nothing."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._data: bodies.CurrentJob | None = None
        self._last_news = time.monotonic()
        self._loading = False

    def begin(self, job: Job) -> None:
        with self._lock:
            self._data = bodies.CurrentJob(id=job.id, file=job.file, percent=0.0,
                                           eta_seconds=None, started_at=utc_now_iso(),
                                           attempt=job.attempts)
            self._last_news = time.monotonic()

    def loading(self, on: bool) -> None:
        """The model is loading for this job: that wait is not the job's silence."""
        self._loading = on
        self._last_news = time.monotonic()

    def news(self) -> None:
        """The worker said something about this job: it is moving."""
        self._last_news = time.monotonic()

    def silent_for(self) -> float:
        """Seconds since the running job's last news; 0 when no job runs."""
        with self._lock:
            if not self._data or self._loading:
                return 0.0
            return time.monotonic() - self._last_news

    def update(self, percent: float, eta_seconds: float | None) -> None:
        with self._lock:
            if self._data is not None:
                self._data["percent"], self._data["eta_seconds"] = percent, eta_seconds

    def clear(self) -> None:
        with self._lock:
            self._data = None

    def snapshot(self) -> bodies.CurrentJob | None:
        with self._lock:
            return bodies.CurrentJob(**self._data) if self._data else None

    def progress_of(self, job_id: int) -> tuple[float, float | None] | None:
        """(percent, eta) when `job_id` is the running job."""
        with self._lock:
            if self._data and self._data["id"] == job_id:
                return self._data["percent"], self._data["eta_seconds"]
        return None
