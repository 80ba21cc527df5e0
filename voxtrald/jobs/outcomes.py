"""How a job attempt ends: transcripts written and the job done, or a failure counted.

A finished attempt is recorded as done *before* its source moves, so a crash
in between leaves a known file in the inbox, never a finished job that looks
failed; a failed attempt is retried after a growing wait until the job's
attempts run out, and only then is the source set aside with its reason.
"""

from __future__ import annotations

import logging
import os
import stat
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from voxtrald.config import Config
from voxtrald.events import EventLog, utc_now_iso
from voxtrald.files import atomic, hashing
from voxtrald.jobs import speaker_labels
from voxtrald.jobs.disposal import Disposal
from voxtrald.jobs.hooks import Hooks
from voxtrald.jobs.policy import retry_delay
from voxtrald.states import EventType, JobState
from voxtrald.store.errors import StoreUnavailable
from voxtrald.store.jobs import Job, JobStore
from voxtrald.store.search import Line
from voxtrald.transcripts import outputs
from voxtrald.transcripts.segments import Segment
from voxtrald.version import APP_NAME, current_version

log = logging.getLogger("voxtrald")
T = TypeVar("T")
# While the team queue is away, a finished job's record is tried again this often.
RECORD_RETRY_SECONDS = 2.0


class OutputError(Exception):
    """Transcripts could not be written; the source is fine and stays where it is."""


@dataclass(frozen=True)
class Result:
    """Everything a finished attempt produced, resumed chunks included."""

    segments: Sequence[Segment]
    duration: float
    chunks: int
    language: str | None
    language_probability: float | None
    warnings: tuple[str, ...] = field(default=())
    resumed_at: float = 0.0
    # The formats the file's folder rules ask for; None: the config's.
    formats: tuple[str, ...] | None = None
    model: str | None = None  # the folder's model, when its rules name one
    # The English translation's segments (NAME.en.*), or why there is none.
    translation: Sequence[Segment] | None = None
    translation_note: str | None = None


def translation_doc(result: Result) -> dict[str, Any]:
    """The JSON's `translation`: the English text and its timed segments, or why none."""
    if result.translation is not None:
        shown = outputs.shown(result.translation)
        return {"translation": {
            "language": "en", "text": " ".join(s.text.strip() for s in shown),
            "segments": [{"start": round(s.start, 3), "end": round(s.end, 3),
                          "text": s.text.strip()} for s in shown]}}
    if result.translation_note:
        return {"translation": {"language": "en", "skipped": result.translation_note}}
    return {}


def transcript_mode(job: Job) -> int:
    """A transcript is as private as its recording: the source's read/write bits, or 0600."""
    try:
        source_mode = Path(job.source_path).lstat().st_mode
    except OSError:
        return 0o600
    return stat.S_IMODE(source_mode) & 0o666 & atomic.USER_FILE_MODE | 0o600


class Outcomes:
    def __init__(self, store: JobStore, cfg: Config, events: EventLog,
                 disposal: Disposal, hooks: Hooks | None = None) -> None:
        self.store = store
        self.cfg = cfg
        self.events = events
        self.disposal = disposal
        self.hooks = hooks or Hooks(cfg.hooks)
        # Set when the daemon stops: a record waiting for the team queue gives up then.
        self.stopping = threading.Event()

    def _hook(self, event: str, job_id: int, written: list[Path], error: str | None) -> None:
        """The user's command for this end, with the job as it is now (its source moved)."""
        job = self.store.get(job_id)
        if job is None:
            return
        paths = {p.suffix.lstrip("."): str(p) for p in written}
        paths.update(source=job.source_path, file=job.file, id=str(job.id))
        summary = {"event": "job_done" if event == "on_done" else "job_failed",
                   "id": job.id, "file": job.file, "source": job.source_path,
                   "state": str(job.state), "outputs": [str(p) for p in written],
                   "language": job.language, "duration": job.duration,
                   "warnings": list(job.warnings), "error": error}
        self.hooks.job_ended(event, summary, paths)

    # -- success ---------------------------------------------------------------------------

    def metadata(self, job: Job, result: Result, wall: float) -> dict[str, Any]:
        """The JSON transcript's header: what was transcribed, how, and what to watch for."""
        engine = self.cfg.engine
        duration = result.duration
        return {
            "source": job.file,
            "language": result.language,
            "language_probability": result.language_probability,
            "duration": round(duration, 3),
            "model": result.model or engine.model,
            "compute_type": engine.compute_type,
            "beam_size": engine.beam_size,
            "transcribed_at": utc_now_iso(),
            "timing": {
                "wall_seconds": round(wall, 3),
                "real_time_factor": round(wall / duration, 4) if duration else None,
                "chunks": result.chunks,
                "resumed_at": round(result.resumed_at, 3) if result.resumed_at else None,
            },
            "warnings": list(result.warnings),
            "generator": f"{APP_NAME} {current_version()}",
            # Which machine of a team transcribed it.
            **({"machine": self.store.host} if self.store.team else {}),
            **speaker_labels.meta(result.segments, self.store.speaker_names(job.id)),
            **translation_doc(result),
        }

    @staticmethod
    def source_changed(job: Job) -> os.stat_result | None:
        """The file now, if its size or time moved since it was taken."""
        try:
            st = Path(job.source_path).lstat()
        except OSError:
            return None
        return st if (st.st_size, st.st_mtime) != (job.size, job.mtime) else None

    def _still_the_same(self, job: Job, st: os.stat_result) -> bool:
        """After a change of size or time: is it the content that was transcribed?

        A sync client or an editor touches files; that is no reason to throw a
        finished run away. Real new content is queued under its own hash, so the
        job never records bytes it did not transcribe.
        """
        try:
            digest = hashing.sha256_of(Path(job.source_path))
        except OSError:
            digest = None
        if digest is not None and digest == job.sha256:
            self.store.note_touched(job.id, st.st_size, st.st_mtime)
            return True
        log.info("%s changed while it was transcribed; transcribing it again once it "
                 "settles", job.file)
        self.store.requeue(job.id, delay=self.cfg.inbox.settle_seconds + 1,
                           size=st.st_size, mtime=st.st_mtime, sha256=digest)
        return False

    def content_changed(self, job: Job, sha256: str) -> None:
        """The worker decoded other bytes than intake hashed: record them and go again.

        Without this a file overwritten in place (same size, mtime restored) would be
        transcribed as its new audio but recorded under the old hash, and the old audio
        dropped later would count as a duplicate of something never transcribed.
        """
        log.warning("%s changed after it was queued (its content differs from what was "
                    "hashed); transcribing it again", job.file)
        try:
            st = Path(job.source_path).lstat()
        except OSError:
            st = None
        self.store.requeue(job.id, delay=self.cfg.inbox.settle_seconds + 1,
                           size=st.st_size if st else None, mtime=st.st_mtime if st else None,
                           sha256=sha256)

    def _write(self, job: Job, result: Result, meta: dict[str, Any]) -> list[Path]:
        folder = self.cfg.paths.transcripts / job.rel_dir
        formats = list(result.formats or self.cfg.outputs.formats)
        try:
            atomic.ensure_folder(folder)
            # A name is reserved in the store before its files exist, so two jobs never
            # share one, even when one of them has not written yet (a full disk, a retry).
            reserved = self.store.stems_in(job.rel_dir, job.id)
            stem = job.output_stem
            if not stem or stem in reserved:
                stem = outputs.free_stem(folder, Path(job.file).stem, formats, reserved)
            self.store.set_output_stem(job.id, stem)
            marks = self.cfg.outputs.mark_gaps
            written = outputs.write_transcripts(folder, stem, formats, result.segments, meta,
                                                mode=transcript_mode(job), mark_gaps=marks)
            english = [f for f in formats if f != "json"]  # the JSON holds both texts
            if result.translation is not None and english:
                written += outputs.write_transcripts(folder, f"{stem}.en", english,
                                                     result.translation, meta,
                                                     mode=transcript_mode(job), mark_gaps=marks)
            return written
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise OutputError(f"cannot write transcripts to {folder}: {reason}") from exc

    def complete(self, job: Job, result: Result, wall: float) -> None:
        changed = self.source_changed(job)
        if changed is not None and not self._still_the_same(job, changed):
            return
        meta = self.metadata(job, result, wall)
        try:
            written = self._when_reachable(job, lambda: self._write(job, result, meta))
        except OutputError as exc:
            self.fail(job.id, str(exc), permanent=False, move=False)
            return
        if written is None:
            return
        # The English translation is found too: a French meeting answers "budget review".
        lines = [Line(s.start, s.end, s.text.strip())
                 for s in (*outputs.shown(result.segments),
                           *outputs.shown(result.translation or ()))]
        def record() -> bool:
            self.store.finish(job.id, [str(p) for p in written], result.duration,
                              round(wall, 3), result.language, result.language_probability,
                              result.warnings, lines=lines)
            return True

        if not self._when_reachable(job, record):
            return
        self.disposal.finish(job)
        duration = result.duration
        rtf = wall / duration if duration else 0.0
        log.info("job %d done: %s, %.1f s of audio in %.1f s (real-time factor %.2f)%s",
                 job.id, job.file, duration, wall, rtf,
                 "; " + "; ".join(result.warnings) if result.warnings else "")
        self.events.emit(EventType.JOB_DONE, id=job.id, file=job.file, duration=round(duration, 3),
                         wall_seconds=round(wall, 3), outputs=[str(p) for p in written],
                         warnings=list(result.warnings))
        self._hook("on_done", job.id, written, None)

    def _when_reachable(self, job: Job, step: Callable[[], T]) -> T | None:
        """`step` of a transcribed job, waiting for the team queue while it is away: the
        work is done, and its record must follow. None if the daemon stopped first (the
        job is then resumed from its checkpoints, by this machine or another)."""
        waited = False
        while True:
            try:
                done = step()
            except StoreUnavailable as exc:
                if not waited:
                    log.warning("job %d (%s) is transcribed, but the job store cannot be "
                                "reached (%s); going on as soon as it is back", job.id,
                                job.file, exc)
                    waited = True
                if self.stopping.wait(RECORD_RETRY_SECONDS):
                    return None
                continue
            if waited:
                log.info("job %d goes on now that the job store is back", job.id)
            return done

    # -- failure ---------------------------------------------------------------------------

    def fail(self, job_id: int, error: str, permanent: bool, move: bool = True,
             count: bool = False) -> None:
        """Record a failed attempt: retried after a backoff, or failed for good and set aside.

        `count` starts an attempt first, for a job that failed before it could run.
        """
        job = self.store.get(job_id)
        if job is None:
            return
        if count:
            job = self.store.start(job_id)
        elif not self.store.holds_claim(job_id):
            log.warning("job %d (%s): another machine holds it by now; its failure here (%s) "
                        "is not recorded", job_id, job.file, error)
            return
        if job.state != JobState.RUNNING:
            return  # the job was not running: nothing to record
        backoff = retry_delay(self.cfg.jobs.retry_backoff_seconds, job.attempts)
        final = permanent or job.attempts >= job.max_attempts
        if final:
            # Set aside before the job reads "failed": whoever sees it failed (the API, a
            # retry, the tray's Show error) finds the file in Failed/ with its report.
            self._remove_partial_set(job)
            if move:
                self.disposal.set_aside(job, error)
        recorded = self.store.fail_attempt(job_id, error, None if final else backoff)
        if recorded is None:
            return
        job = self.store.get(job_id) or job
        if final:
            log.error("job %d failed for good after %d attempt(s): %s: %s", job_id,
                      job.attempts, job.file, error)
        else:
            log.warning("job %d attempt %d failed: %s; retrying in %.0f s", job_id,
                        job.attempts, error, backoff)
        self.events.emit(EventType.JOB_FAILED, id=job_id, file=job.file, error=error, final=final)
        if final:
            self._hook("on_failed", job_id, [], error)

    def _remove_partial_set(self, job: Job) -> None:
        """Transcripts of a job that never finished (a kill between renames): not a result.

        Only its own: a name another job holds (a store from before names were
        reserved) is left alone.
        """
        if not job.output_stem or job.output_stem in self.store.stems_in(job.rel_dir, job.id):
            return
        folder = self.cfg.paths.transcripts / job.rel_dir
        names = [f"{job.output_stem}.{fmt}" for fmt in outputs.FORMATS]
        names += [f"{job.output_stem}.en.{fmt}" for fmt in outputs.FORMATS if fmt != "json"]
        for name in names:
            path = folder / name
            try:
                path.unlink()
                log.info("removed %s, left incomplete by an earlier attempt", path.name)
            except FileNotFoundError:
                pass
            except OSError as exc:
                log.warning("cannot remove the incomplete transcript %s: %s", path, exc)

    def fail_unexpected(self, job_id: int) -> None:
        """Count an attempt for a job an internal error cut short, whatever stage it was in."""
        job = self.store.get(job_id)
        if job is not None and job.state in (JobState.QUEUED, JobState.RUNNING):
            self.fail(job_id, "internal error (see the daemon log)", permanent=False,
                      count=job.state == JobState.QUEUED)

    def interrupted(self, job_id: int, reason: str, stopping: bool) -> None:
        """The worker went away mid-job: the daemon stopping it is no fault of the file."""
        if stopping:
            self.store.requeue(job_id)
        else:
            self.fail(job_id, reason, permanent=False)
