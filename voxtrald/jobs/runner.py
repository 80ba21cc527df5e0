"""One attempt at one job: hand it to the worker, follow its replies, end it.

The runner owns the conversation with the worker for the length of an
attempt: it resumes from the job's finished chunks, keeps the live progress
and the store's copy of it up to date, checkpoints each finished chunk, and
hands the end of the attempt (done, failed, cut short) to `Outcomes`.
Between the worker's reports the bar moves on toward the end of the step under
way at the speed measured so far (`policy.shown_position`), so a long file's
progress never stands still for the length of a chunk.
A reply about another job (late output of an attempt that already ended) is
ignored, so it can never land in this job's transcript.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol

from voxtrald.config import Config
from voxtrald.events import EventLog
from voxtrald.jobs import admission, rules, speaker_labels, speaker_sidecar, translation, vocabulary
from voxtrald.jobs.activity import CurrentJob, Heartbeat
from voxtrald.jobs.cancelling import Cancelling
from voxtrald.jobs.holds import FolderHolds
from voxtrald.jobs.outcomes import Outcomes, Result
from voxtrald.jobs.policy import Bar
from voxtrald.states import EventType
from voxtrald.store.chunks import Chunk
from voxtrald.store.errors import STORE_ERRORS, ClaimLost
from voxtrald.store.jobs import Job, JobStore
from voxtrald.transcripts import gaps
from voxtrald.transcripts.segments import Segment
from voxtrald.transcripts.voices import Voice
from voxtrald.worker import protocol as wp
from voxtrald.worker.process import WorkerError

log = logging.getLogger("voxtrald")
# The store's copy of the progress is refreshed at most this often.
PROGRESS_EVERY = 0.5
MODEL_LOAD_TIMEOUT = 300.0
# A model that would not load is tried again after this long; the job waits meanwhile.
MODEL_RETRY_SECONDS = 60.0
# A file held by a broken rules file is looked at again after this long.
HOLD_RECHECK_SECONDS = 2.0


class Worker(Protocol):
    """What the runner needs of the worker supervisor (a fake one in unit tests)."""

    last_used: float

    def alive(self) -> bool: ...

    def start(self, timeout: float = ...) -> float: ...

    def submit(self, request: wp.Transcribe) -> None: ...

    def next_message(self, timeout: float) -> wp.Reply | None: ...

    def exit_reason(self) -> str: ...

    def stop(self, grace: float = ...) -> None: ...


class _Attempt:
    """The running tally of one attempt: segments so far, where the audio is, its length."""

    def __init__(self, job: Job, done: list[Chunk]) -> None:
        self.job = job
        self.segments: list[Segment] = [s for c in done for s in c.segments]
        self.voices: list[Voice] = [v for c in done for v in c.voices]
        self.resumed_at = done[-1].end if done else 0.0
        self.first_chunk = len(done)
        self.duration = job.duration
        self.language = done[-1].language if done else None
        self.language_probability = done[-1].language_probability if done else None
        self.started = time.monotonic()
        self.bar = Bar(self.started, self.resumed_at)
        self.last_saved = 0.0
        self.progress_unsaved = False
        self.request: wp.Transcribe | None = None
        self.translate = False


class JobRunner:
    def __init__(self, store: JobStore, worker: Worker, outcomes: Outcomes, cfg: Config,
                 events: EventLog, current: CurrentJob, heartbeat: Heartbeat,
                 stopping: threading.Event) -> None:
        self.store = store
        self.worker = worker
        self.outcomes = outcomes
        self.cfg = cfg
        self.events = events
        self.current = current
        self.heartbeat = heartbeat
        self.stopping = stopping
        # Why the model would not load the last time it was asked to, for /api/health.
        self.load_error: str | None = None
        self.holds = FolderHolds()
        # Jobs whose claim the lease thread found lost (the team queue): dropped at once.
        self.lost_claims: set[int] = set()
        #: The job this machine holds a claim on now, for the lease thread to renew.
        self.claimed: int | None = None
        self._checkpoint_warned: set[int] = set()
        self.cancels = Cancelling(store, events, current)

    def claim_lost(self, job_id: int) -> None:
        self.lost_claims.add(job_id)

    def run(self, job: Job) -> None:
        """Claim the job, then run one attempt; nothing if it was cancelled or another
        machine of a team has it."""
        with self.cancels.lock:  # a job cancelled a moment before its turn never starts
            claimed = self.store.claim(job.id)
            if claimed is None:
                return  # cancelled, or another machine took it first
            self.cancels.started(job.id)
        self.claimed = job.id
        try:
            admitted = self._admitted(claimed)
            if admitted is not None:
                self._attempt(admitted)
        except ClaimLost as exc:
            log.warning("job %d (%s): its claim ended elsewhere (%s); this machine drops its "
                        "attempt and writes nothing", job.id, job.file, exc)
            self.worker.stop(grace=1.0)
        finally:
            self.cancels.ended()
            self.claimed = None
            self.lost_claims.discard(job.id)
            self._checkpoint_warned.discard(job.id)

    def _admitted(self, job: Job) -> Job | None:
        """The claimed job if its file is there and new audio; None when that ended it."""
        if not admission.readable(self.outcomes, job):
            return None
        hashed = admission.content(self.store, self.outcomes, job)
        if hashed is None or admission.now_a_duplicate(self.store, self.outcomes, hashed):
            return None
        return hashed

    def _end(self, record: Callable[..., object], *args: Any, **kwargs: Any) -> None:
        """Record how the attempt ended, unless it was cancelled first (then nothing is)."""
        with self.cancels.lock:
            if not self.cancels.requested():
                record(*args, **kwargs)

    def _attempt(self, job: Job) -> None:
        source = Path(job.source_path)
        settings = self._settings(job, source)
        if settings is None or self.cancels.requested():
            return
        self.current.begin(job)
        attempt = _Attempt(job, self.store.chunks(job.id))
        log.info("job %d started: %s (attempt %d of %d)%s", job.id, job.file, job.attempts,
                 job.max_attempts,
                 f", resuming at {attempt.resumed_at:.1f} s" if attempt.resumed_at else "")
        self.events.emit(EventType.JOB_STARTED, id=job.id, file=job.file, attempt=job.attempts)
        vocab = vocabulary.for_source(source, settings.value("hotwords"))
        speakers, speaker_notes = speaker_sidecar.for_source(source, settings.value("speakers"))
        request = wp.Transcribe(
            job.id, str(source), start_at=attempt.resumed_at, first_chunk=attempt.first_chunk,
            options=wp.JobOptions(language=settings.value("language") or None,
                                  hotwords=vocab.hotwords,
                                  initial_prompt=settings.value("initial_prompt") or None,
                                  languages=tuple(settings.value("languages")),
                                  speakers=speakers),
            # A resumed job goes on in the language its first chunks were heard in,
            # without forcing it (a later window may still switch language).
            known_language=attempt.language,
            known_language_probability=attempt.language_probability,
            voices=tuple(attempt.voices),
        )
        try:
            self._use_model(settings.value("model"))
            self._ensure_worker()
        except WorkerError as exc:
            self._end(self._cannot_load, job, str(exc))
            return
        if self.cancels.requested():  # while the model loaded: it stays for the next job
            return
        try:
            self.worker.submit(request)
        except WorkerError as exc:
            self._end(self.outcomes.interrupted, job.id, str(exc), self.stopping.is_set())
            return
        attempt.request = request
        attempt.translate = bool(settings.value("translate"))
        self._follow(attempt, (*vocab.warnings, *speaker_notes),
                     tuple(settings.value("formats")), settings.value("model"))

    def _settings(self, job: Job, source: Path) -> rules.FileSettings | None:
        """The file's settings (folder rules over the config); None when its folder is held."""
        settings = rules.resolve(source, self.cfg)
        self.holds.note_ignored(settings.ignored)
        if settings.held is not None and settings.held_by is not None:
            self.holds.hold(settings.held_by, settings.held, job.file)
            self.store.requeue(job.id, delay=HOLD_RECHECK_SECONDS)
            return None
        self.holds.release(list(settings.read))
        return settings

    def _use_model(self, model: str) -> None:
        """A folder may ask for another model: the worker is started again with it."""
        current = getattr(self.worker, "settings", None)
        if not isinstance(current, dict) or current.get("model") == model:
            return
        log.info("switching the transcription model from %s to %s", current.get("model"), model)
        self.worker.stop()
        self.worker.settings = {**current, "model": model}  # type: ignore[attr-defined]

    def _cannot_load(self, job: Job, reason: str) -> None:
        """The model would not load: no fault of this file, so no attempt is counted."""
        self.load_error = reason
        log.error("the model cannot be loaded (%s); job %d waits and is tried again in %.0f s",
                  reason, job.id, MODEL_RETRY_SECONDS)
        self.store.requeue(job.id, delay=MODEL_RETRY_SECONDS)

    def _ensure_worker(self) -> None:
        if self.worker.alive():
            return
        # A big model loads for minutes; neither the watchdog nor /api/health may take that
        # for a hang.
        self.heartbeat.allow(MODEL_LOAD_TIMEOUT)
        self.current.loading(True)
        try:
            self.worker.start(MODEL_LOAD_TIMEOUT)
            self.load_error = None
        finally:
            self.current.loading(False)
            self.heartbeat.done_waiting()

    def _stalled(self, job: Job) -> bool:
        """Past the stall limit without news: end the worker and fail the attempt."""
        limit = self.cfg.jobs.stall_seconds
        if self.current.silent_for() < limit:
            return False
        log.error("job %d made no progress for %.0f s; stopping its worker", job.id, limit)
        self.worker.stop(grace=1.0)
        self._end(self.outcomes.fail, job.id, f"no progress for {limit:.0f} s (the file may be "
                  "on a stalled network folder, or is not a regular file)", permanent=False)
        return True

    def _follow(self, attempt: _Attempt, warnings: tuple[str, ...],
                formats: tuple[str, ...] | None = None, model: str | None = None) -> None:
        job = attempt.job
        # The heartbeat proves progress: it moves with the worker's news, and may go quiet
        # for as long as the stall limit allows before the service watchdog gives up.
        self.heartbeat.allow(self.cfg.jobs.stall_seconds + 30)
        self.current.news()  # the model load before this was no silence of the job's
        while True:
            if self.cancels.requested():
                self.worker.stop(grace=1.0)
                log.info("job %d: its worker was stopped", job.id)
                return
            if self.stopping.is_set():
                log.info("stopping: job %d will go on at the next start", job.id)
                self.worker.stop(grace=1.0)
                self._end(self.store.requeue, job.id)
                return
            if job.id in self.lost_claims:
                raise ClaimLost("its lease ran out while this machine was away")
            try:
                msg = self.worker.next_message(timeout=0.25)
            except queue.Empty:
                if self._stalled(job):
                    return
                self._show(attempt)
                continue
            self.current.news()
            self.heartbeat.beat()
            self.heartbeat.allow(self.cfg.jobs.stall_seconds + 30)
            if msg is None:
                self._end(self.outcomes.interrupted, job.id, self.worker.exit_reason(),
                          self.stopping.is_set())
                self.worker.stop()
                return
            if getattr(msg, "job_id", None) != job.id:
                continue  # late output of an attempt that already ended
            if isinstance(msg, wp.Started):
                attempt.duration = msg.duration or attempt.duration
            elif isinstance(msg, wp.Progress):
                self._progress(attempt, msg.position, msg.until)
            elif isinstance(msg, wp.ChunkDone):
                self._chunk_done(attempt, msg)
            elif isinstance(msg, wp.Failed):
                self._end(self.outcomes.fail, job.id, msg.message, permanent=msg.permanent)
                return
            elif isinstance(msg, wp.Done):
                if msg.sha256 and job.sha256 and msg.sha256 != job.sha256:
                    # Other bytes than the ones hashed at intake (the file was rewritten in
                    # place, or swapped): transcribe it again as it is now.
                    self._end(self.outcomes.content_changed, job, msg.sha256)
                    return
                result = Result(
                    segments=speaker_labels.apply(attempt.segments, msg.speaker_windows),
                    duration=msg.duration, chunks=msg.chunks,
                    language=msg.language or attempt.language,
                    language_probability=(attempt.language_probability
                                          if msg.language_probability is None
                                          else msg.language_probability),
                    warnings=(*warnings, *msg.warnings, *gaps.warnings(attempt.segments)),
                    resumed_at=attempt.resumed_at, formats=formats, model=model,
                )
                try:
                    result = self._translated(attempt, result)
                except translation.Stopped:
                    if not self.cancels.requested():
                        log.info("stopping: job %d will go on at the next start", job.id)
                        self._end(self.store.requeue, job.id)
                    return
                self._end(self.outcomes.complete, job, result,
                          time.monotonic() - attempt.started)
                return

    def _translated(self, attempt: _Attempt, result: Result) -> Result:
        """The result with its English translation, when the file's settings ask for one."""
        if attempt.request is None or not attempt.translate:
            return result
        if not translation.wanted(True, result.language):
            return replace(result, translation_note="the recording is in English already")
        log.info("job %d: translating %s into English (a second pass)", attempt.job.id,
                 attempt.job.file)

        def news() -> None:
            self.current.news()
            self.heartbeat.beat()

        segments, error = translation.translate(
            self.worker, translation.request_for(attempt.request, result.language),
            _Halt(self.stopping, self.cancels), self.cfg.jobs.stall_seconds, news)
        if segments is None:
            log.warning("job %d: the English translation failed: %s", attempt.job.id, error)
            return replace(result, warnings=(*result.warnings,
                                             f"the English translation failed: {error}"))
        return replace(result, translation=tuple(segments))

    def _chunk_done(self, attempt: _Attempt, msg: wp.ChunkDone) -> None:
        attempt.segments.extend(msg.segments)
        attempt.voices.extend(msg.voices)
        if msg.language:
            attempt.language, attempt.language_probability = (msg.language,
                                                              msg.language_probability)
        try:
            self.store.save_chunk(attempt.job.id, Chunk(msg.index, msg.end, msg.segments,
                                                        attempt.language,
                                                        attempt.language_probability,
                                                        msg.voices),
                                  attempt.job.sha256)
        except STORE_ERRORS as exc:
            # A checkpoint only saves work after a crash; the job itself goes on.
            if attempt.job.id not in self._checkpoint_warned:
                self._checkpoint_warned.add(attempt.job.id)
                log.warning("cannot keep the finished chunks of job %d (%s); it goes on, "
                            "and would start over after a crash", attempt.job.id, exc)
        self._progress(attempt, msg.end)

    def _progress(self, attempt: _Attempt, position: float, until: float | None = None) -> None:
        """The worker's news: the work reached `position`, its step under way ends at `until`."""
        now = time.monotonic()
        attempt.bar.report(position, until, now)
        self._show(attempt, now)

    def _show(self, attempt: _Attempt, now: float | None = None) -> None:
        """The bar and the ETA as they stand now (between reports too)."""
        now = time.monotonic() if now is None else now
        est = attempt.bar.estimate(attempt.duration, now)
        if est is None:
            return
        self.current.update(est.percent, est.eta_seconds)
        if now - attempt.last_saved >= PROGRESS_EVERY:
            attempt.last_saved = now
            try:
                self.store.progress(attempt.job.id, est.percent, est.eta_seconds,
                                    attempt.duration)
            except STORE_ERRORS as exc:
                # Only a figure for the job list (the live one is in memory): not worth
                # the attempt. Said once per attempt.
                if not attempt.progress_unsaved:
                    log.warning("cannot record the progress of job %d: %s", attempt.job.id, exc)
                attempt.progress_unsaved = True


class _Halt:
    """Set when the daemon stops or the attempt was cancelled: a long wait ends on either."""

    def __init__(self, stopping: threading.Event, cancels: Cancelling) -> None:
        self.stopping = stopping
        self.cancels = cancels

    def is_set(self) -> bool:
        return self.stopping.is_set() or self.cancels.requested()
