"""The queue's loop: one job at a time, when nothing holds it back.

While the daemon runs, the scheduler is the only thread that starts and stops
the worker (the daemon ends it once more on the way out). It takes
the oldest runnable job unless the queue is paused or memory says the model
would not fit now, hands it to the job runner, and between jobs ends an idle
worker (after `idle_unload_seconds`, or soon once memory turns critical) so
the model's memory goes back to the OS. No error, however unexpected, ends
the loop: the daemon outlives any one job.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from voxtrald.events import EventLog
from voxtrald.jobs.activity import CurrentJob, Heartbeat
from voxtrald.jobs.outcomes import Outcomes
from voxtrald.jobs.policy import unload_reason
from voxtrald.jobs.runner import JobRunner, Worker
from voxtrald.states import EventType, MemoryLevel
from voxtrald.store.errors import StoreUnavailable
from voxtrald.store.jobs import Job, JobStore

log = logging.getLogger("voxtrald")
PAUSED_SETTING = "paused"
# After an unexpected fault the loop waits this long, so a fault that repeats cannot spin.
FAULT_PAUSE = 1.0


class Scheduler:
    def __init__(self, store: JobStore, runner: JobRunner, outcomes: Outcomes, worker: Worker,
                 events: EventLog, current: CurrentJob, heartbeat: Heartbeat,
                 stopping: threading.Event, idle_unload_seconds: float,
                 hold_reason: Callable[[], str | None],
                 memory_level: Callable[[], MemoryLevel | str]) -> None:
        self.store = store
        self.runner = runner
        self.outcomes = outcomes
        self.worker = worker
        self.events = events
        self.current = current
        self.heartbeat = heartbeat
        self.stopping = stopping
        self.idle_unload_seconds = idle_unload_seconds
        self.hold_reason = hold_reason
        self.memory_level = memory_level
        self.waiting_reason: str | None = None
        self.paused = store.get_setting(PAUSED_SETTING) == "1"
        self._wake = threading.Event()
        self._became_critical = False
        self._thread: threading.Thread | None = None
        # Jobs whose end could not be recorded (a full or broken state disk): recorded
        # as soon as the store takes writes again, so none stays "running" until a restart.
        self._unrecorded: set[int] = set()
        self.fault_pause = FAULT_PAUSE

    # -- control ---------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self.loop, name="scheduler", daemon=True)
        self._thread.start()

    def join(self, timeout: float) -> None:
        self.wake()
        if self._thread is not None:
            self._thread.join(timeout)

    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def wake(self) -> None:
        self._wake.set()

    def cancel(self, job_id: int) -> Job:
        """Cancel a queued or running job (see jobs/cancelling.py); the next job may start."""
        job = self.runner.cancels.cancel(job_id)
        self.wake()
        return job

    def memory_level_changed(self, old: str, new: str) -> None:
        # Looked at at once: an idle worker goes at critical, held jobs may start below it.
        if new == MemoryLevel.CRITICAL:
            self._became_critical = True
        self.wake()

    def set_paused(self, paused: bool) -> bool:
        """Pause or resume taking new jobs (the running one finishes); True if it changed."""
        if paused == self.paused:
            return False
        self.paused = paused
        self.store.set_setting(PAUSED_SETTING, "1" if paused else "0")
        if paused:
            log.info("paused: the running job finishes, no new job starts")
        else:
            log.info("resumed")
        self.events.emit(EventType.PAUSED if paused else EventType.RESUMED)
        self.wake()
        return True

    # -- the loop --------------------------------------------------------------------------

    def loop(self) -> None:
        while not self.stopping.is_set():
            self._record_unrecorded()
            try:
                job = self._next_job()
            except StoreUnavailable as exc:
                # The team queue is away: said once, by the store's health; no job is taken.
                self.store.health.failed(exc)
                self.stopping.wait(self.fault_pause)
                continue
            except Exception:
                log.exception("cannot read the job queue; trying again")  # e.g. a full disk
                self.stopping.wait(self.fault_pause)
                continue
            if job is None:
                try:
                    self._idle_wait()
                except Exception:
                    log.exception("error between jobs; going on")
                    self.stopping.wait(self.fault_pause)
                continue
            self._run(job)

    def _run(self, job: Job) -> None:
        try:
            self.runner.run(job)
        except StoreUnavailable as exc:
            # The team queue went away while the job began or ended: the job is either still
            # queued or still claimed by this machine, and is taken up again when it is back
            # (by this machine, or by another once this one's lease runs out).
            log.warning("job %d: the job store went away (%s); the job is left to be "
                        "taken up again", job.id, exc)
            self.worker.stop()
            self.stopping.wait(self.fault_pause)
        except Exception:
            log.exception("unexpected error while running job %d", job.id)
            # The worker may still be busy with this job: its output must not reach the next.
            self.worker.stop()
            try:
                self.outcomes.fail_unexpected(job.id)
            except Exception:
                log.exception("cannot record the failure of job %d; trying again", job.id)
                self._unrecorded.add(job.id)
            self.stopping.wait(self.fault_pause)
        finally:
            self.worker.last_used = time.monotonic()
            self.current.clear()
            # The job's allowance for a long silence ends with it: from now the loop's own
            # beats must keep the heartbeat fresh.
            self.heartbeat.done_waiting()

    def _record_unrecorded(self) -> None:
        for job_id in sorted(self._unrecorded):
            try:
                self.outcomes.fail_unexpected(job_id)
            except Exception:
                return  # still not writable; the next round tries again
            self._unrecorded.discard(job_id)
            log.info("job %d: its interrupted attempt is recorded now", job_id)

    def _next_job(self) -> Job | None:
        self.heartbeat.beat()
        if self.paused:
            return None
        job = self.store.next_runnable()
        # Only a job that could start now can be waiting for something.
        self.waiting_reason = self._hold() if job else None
        return job if self.waiting_reason is None else None

    def _hold(self) -> str | None:
        try:
            return self.hold_reason()
        except Exception:
            log.exception("memory check failed")  # a broken reading must not stop the queue
            return None

    def _idle_wait(self) -> None:
        self._unload_if_idle()
        wait = 1.0
        try:
            wake_at = self.store.next_wakeup()
        except Exception:
            wake_at = None  # the next round reports a broken store
        if wake_at is not None and not (self.paused or self.waiting_reason):
            wait = max(0.05, min(wait, wake_at - self.store.now()))
        self._wake.wait(wait)
        self._wake.clear()

    def _unload_if_idle(self) -> None:
        became_critical, self._became_critical = self._became_critical, False
        if not self.worker.alive():
            return
        unload = unload_reason(time.monotonic() - self.worker.last_used,
                               self.idle_unload_seconds, self.memory_level(), became_critical)
        if unload:
            log.log(logging.WARNING if unload.urgent else logging.INFO, "%s", unload.reason)
            self.worker.stop()
