"""What the control API may see of the daemon and change in it.

In supervisor's manner (`rpcinterface.py`): the routes get this object and
nothing else, so everything a client can read or do is listed here, and the
daemon's parts stay private to it. Job records are turned into their public
form here too (ISO times, live progress of the running job).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from voxtrald import bodies
from voxtrald.config import Config
from voxtrald.events import EventLog
from voxtrald.files import hashing
from voxtrald.jobs import sources
from voxtrald.jobs.activity import CurrentJob
from voxtrald.jobs.errors import JobNotFound, NotRetryable
from voxtrald.jobs.scheduler import Scheduler
from voxtrald.states import DaemonState, JobState
from voxtrald.store.jobs import Job, JobStore
from voxtrald.version import APP_NAME, current_version

log = logging.getLogger("voxtrald")
def _iso(ts: float | None) -> str | None:
    if not ts:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def public_job(job: Job, live: tuple[float, float | None] | None = None) -> bodies.Job:
    """A job as the API shows it; `live` is (percent, eta) when it is the running job.

    Bookkeeping columns (rel_dir, mtime, output_stem) stay private to the daemon.
    """
    percent, eta = live if live is not None else (job.percent, job.eta_seconds)
    return bodies.Job(
        id=job.id, source_path=job.source_path, file=job.file, sha256=job.sha256,
        size=job.size, state=str(job.state), attempts=job.attempts,
        max_attempts=job.max_attempts, created_at=_iso(job.created_at),
        started_at=_iso(job.started_at), finished_at=_iso(job.finished_at),
        next_attempt_at=_iso(job.next_attempt_at), duration=job.duration,
        wall_seconds=job.wall_seconds, percent=percent, eta_seconds=eta, error=job.error,
        duplicate_of=job.duplicate_of, outputs=list(job.outputs), language=job.language,
        language_probability=job.language_probability, warnings=list(job.warnings),
    )


class Control:
    def __init__(self, cfg: Config, store: JobStore, scheduler: Scheduler, current: CurrentJob,
                 events: EventLog, worker_info: Callable[[], bodies.WorkerInfo],
                 memory_summary: Callable[[], bodies.MemorySummary | None],
                 update_summary: Callable[[], bodies.UpdateSummary | None],
                 problems: Callable[[], list[str]]) -> None:
        self.cfg = cfg
        self.store = store
        self.scheduler = scheduler
        self.current = current
        self.events = events
        self._worker_info = worker_info
        self._memory_summary = memory_summary
        self._update_summary = update_summary
        self._problems = problems

    def _public(self, job: Job) -> bodies.Job:
        # The live figures only while it runs: a job recorded done (or failed) reads as the
        # store has it, though the scheduler has not yet let go of it as its current job.
        live = self.current.progress_of(job.id) if job.state == JobState.RUNNING else None
        return public_job(job, live)

    def pause(self) -> bodies.Status:
        self.scheduler.set_paused(True)
        return self.status()

    def resume(self) -> bodies.Status:
        self.scheduler.set_paused(False)
        return self.status()

    def list_jobs(self, state: str | None, limit: int) -> list[bodies.Job]:
        return [self._public(j) for j in self.store.list(state, limit)]

    def get_job(self, job_id: int) -> bodies.Job | None:
        job = self.store.get(job_id)
        return self._public(job) if job else None

    def retry_job(self, job_id: int) -> bodies.Job:
        """Queue a failed job again, bringing its source back from Failed/ if it was set aside.

        JobNotFound when there is no such job, NotRetryable (the message says why) when
        it cannot be retried.
        """
        job = self.store.get(job_id)
        if job is None:
            raise JobNotFound(job_id)
        if job.state != JobState.FAILED:
            raise NotRetryable(f"job {job_id} is {job.state}; only failed jobs can be retried")
        source = Path(job.source_path)
        if not source.exists():
            raise NotRetryable(f"job {job_id}'s source file {source} no longer exists")
        if self.store.pending_for(str(source)):
            raise NotRetryable(f"{source.name} already has a job waiting or running")
        try:
            # Hashed where it lies, before it moves: the user may have put a good copy in
            # place of the broken one, and nothing of the old content may be resumed.
            digest = hashing.sha256_of(source)
            if source.is_relative_to(self.cfg.paths.failed):
                source = sources.bring_back(source, self.cfg.paths.inbox / job.rel_dir)
            job = self.store.retry(job_id, source, digest, self.cfg.jobs.max_attempts)
        except hashing.NotRegular as exc:
            raise NotRetryable(f"{exc}; put the recording itself there to retry") from exc
        except OSError as exc:
            raise NotRetryable(f"cannot bring {source.name} back: {exc.strerror or exc}") from exc
        log.info("job %d queued again by request", job_id)
        self.scheduler.wake()
        return self._public(job)

    def health(self) -> bodies.Health:
        """Whether everything works, and if not, what does not (in the user's words)."""
        problems = self._problems()
        return bodies.Health(ok=not problems, problems=problems)

    def status(self) -> bodies.Status:
        current = self.current.snapshot()
        paused = self.scheduler.paused
        if paused:
            state = DaemonState.PAUSED
        elif current:
            state = DaemonState.TRANSCRIBING
        else:
            state = DaemonState.IDLE
        p = self.cfg.paths
        return bodies.Status(
            version=current_version(),
            app_name=APP_NAME,
            instance=self.events.instance,
            state=str(state),
            paused=paused,
            waiting_reason=None if paused else self.scheduler.waiting_reason,
            # Folders whose files wait for a broken rules file to be fixed.
            held=self.scheduler.runner.holds.active(),
            queue=self.store.counts(),
            current_job=current,
            folders=bodies.Folders(inbox=str(p.inbox), transcripts=str(p.transcripts),
                                   processed=str(p.processed), failed=str(p.failed)),
            worker=self._worker_info(),
            memory=self._memory_summary(),
            update=self._update_summary(),
            events_last_seq=self.events.last_seq,
        )
