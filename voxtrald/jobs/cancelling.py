"""Cancelling one job, queued or running, without racing the attempt that may be ending it.

A queued job is marked cancelled in the store and never starts. A running one
is marked too, and its attempt is told: the runner stops the worker child (as
it does when the daemon stops) and records nothing more. Either way the file
stays where it is, and a retry transcribes it anyway.

One lock orders the two sides. The runner holds it while it starts a job and
while it records how an attempt ended; a cancel holds it while it marks one.
So a job is never both cancelled and done, and a job cancelled a moment
before its turn is never started.
"""

from __future__ import annotations

import logging
import threading

from voxtrald.events import EventLog
from voxtrald.jobs.activity import CurrentJob
from voxtrald.jobs.errors import JobNotFound, NotCancellable
from voxtrald.states import PENDING_STATES, EventType, JobState
from voxtrald.store.jobs import Job, JobStore

log = logging.getLogger("voxtrald")


class Cancelling:
    def __init__(self, store: JobStore, events: EventLog, current: CurrentJob) -> None:
        self.store = store
        self.events = events
        self.current = current
        self.lock = threading.Lock()
        self._running: int | None = None  # the job of the attempt under way
        self._requested = threading.Event()  # that attempt was cancelled

    # -- the runner's side (`started` under `lock`) ----------------------------------------

    def started(self, job_id: int) -> None:
        self._running = job_id
        self._requested.clear()

    def requested(self) -> bool:
        """Whether the attempt under way was cancelled: it is to stop, recording nothing."""
        return self._requested.is_set()

    def ended(self) -> None:
        with self.lock:
            self._running = None
            self._requested.clear()

    # -- the request -----------------------------------------------------------------------

    def cancel(self, job_id: int) -> Job:
        """Cancel a queued or running job; the job as it is then.

        JobNotFound when there is no such job, NotCancellable (saying why) when it has
        ended already. A job cancelled before is answered as it is, nothing done again.
        """
        with self.lock:
            job = self.store.get(job_id)
            if job is None:
                raise JobNotFound(job_id)
            if job.state == JobState.CANCELLED:
                return job
            cancelled = self.store.cancel(job_id) if job.state in PENDING_STATES else None
            if cancelled is None:
                now = self.store.get(job_id) or job
                raise NotCancellable(f"job {job_id} ({job.file}) is {now.state}; only queued "
                                     "or running jobs can be cancelled")
            running = job_id == self._running
            if running:
                self._requested.set()
                self.current.clear()  # no longer transcribing, while its worker ends
        log.info("job %d cancelled by request%s: %s stays where it is, untranscribed", job_id,
                 " (its worker is being stopped)" if running else "", job.file)
        self.events.emit(EventType.JOB_CANCELLED, id=job_id, file=job.file,
                         was=str(job.state))
        return cancelled
