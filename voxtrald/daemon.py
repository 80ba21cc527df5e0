"""voxtrald's wiring: inbox → job store → worker → transcripts, plus the control API.

The scheduler runs one job at a time on its own thread; everything it knows
is in the job store first, so a crash at any point is recovered by
re-reading the store at the next start. This module only connects the parts;
each part keeps its own rules.
"""

from __future__ import annotations

import argparse
import logging
import os
import queue
import signal
import sqlite3
import sys
import threading
import time
from pathlib import Path
from typing import Any

from voxtrald import _platform, outputs, sdnotify, sources
from voxtrald import config as config_mod
from voxtrald.api import core_routes
from voxtrald.api.router import Router
from voxtrald.api.server import ApiServer, ApiServerError
from voxtrald.events import EventLog, utc_now_iso
from voxtrald.inbox import Inbox
from voxtrald.jobs import JobStore
from voxtrald.memory.routes import register_routes as memory_routes
from voxtrald.memory.sampler import MemoryMonitor
from voxtrald.models import model_files_bytes
from voxtrald.updates.checker import UpdateChecker
from voxtrald.updates.routes import register_routes as update_routes
from voxtrald.version import APP_NAME, current_version
from voxtrald.worker import WorkerError, WorkerProcess, WorkerSettings

log = logging.getLogger("voxtrald")
PROGRESS_EVERY = 0.5
# The scheduler beats at least every second; this long without a beat means it hangs.
HEARTBEAT_LIMIT = 60.0
# How long an idle worker may keep its model while memory stays critical.
CRITICAL_IDLE_GRACE = 10.0
MODEL_LOAD_TIMEOUT = 300.0


class StartupError(Exception):
    """Start-up cannot go on; the message is the one line the user sees."""


class OutputError(Exception):
    """Transcripts could not be written; the source is fine and stays where it is."""


class Daemon:
    def __init__(self, cfg: config_mod.Config) -> None:
        self.cfg = cfg
        self.events = EventLog()
        self.store: JobStore | None = None
        self.worker = WorkerProcess(self._worker_settings())
        self._stopping = threading.Event()
        self._wake = threading.Event()
        self._current: dict[str, Any] | None = None
        self._current_lock = threading.Lock()
        self.waiting_reason: str | None = None
        self._heartbeat = time.monotonic()
        self._became_critical = False
        self._loading_until = 0.0
        self._paused = False
        self._threads: list[threading.Thread] = []
        self._state_lock_fh: Any = None
        self.inbox: Inbox | None = None
        self.api: ApiServer | None = None
        self.memory: MemoryMonitor | None = None
        self.updates: UpdateChecker | None = None
        self._model_bytes = model_files_bytes(cfg.engine.model)

    # -- start and stop ----------------------------------------------------------------------

    def _worker_settings(self) -> WorkerSettings:
        e = self.cfg.engine
        return WorkerSettings(
            model=e.model, device=e.device, compute_type=e.compute_type, threads=e.threads,
            beam_size=e.beam_size, language=e.language,
            chunk_seconds_low=e.chunk_seconds_low, chunk_seconds_mid=e.chunk_seconds_mid,
            chunk_seconds_high=e.chunk_seconds_high, chunk_low_below_gb=e.chunk_low_below_gb,
            chunk_mid_below_gb=e.chunk_mid_below_gb,
            log_level=logging.getLevelName(logging.getLogger().level),
        )

    def _lock_state_dir(self) -> None:
        state = self.cfg.paths.state_dir
        state.mkdir(parents=True, exist_ok=True)
        fh = (state / "voxtrald.lock").open("a+")
        try:
            _platform.try_lock(fh.fileno())
        except OSError as exc:
            fh.seek(0)
            pid = fh.read().strip() or "?"
            fh.close()
            raise StartupError(
                f"another voxtrald (pid {pid}) is already using the state folder {state}"
            ) from exc
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        self._state_lock_fh = fh

    def _prepare_folders(self) -> None:
        p = self.cfg.paths
        if not p.inbox.is_dir():
            try:
                p.inbox.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StartupError(
                    f"cannot create the inbox {p.inbox}: {exc.strerror or exc}") from exc
            log.warning("inbox %s was missing; created it", p.inbox)
        for name, folder in (("transcripts", p.transcripts), ("processed", p.processed),
                             ("failed", p.failed)):
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                log.error("cannot create the %s folder %s: %s", name, folder, exc)
        removed = outputs.remove_stale_temps(p.transcripts) if p.transcripts.is_dir() else 0
        if removed:
            log.info("removed %d unfinished transcript file(s) left by an earlier stop", removed)

    def start(self) -> None:
        self._lock_state_dir()
        self._prepare_folders()
        db_path = self.cfg.paths.state_dir / "jobs.sqlite3"
        try:
            self.store = JobStore(db_path)
        except sqlite3.Error as exc:
            raise StartupError(
                f"the job store {db_path} cannot be opened ({exc}); move it aside to start afresh"
            ) from exc
        self._paused = self.store.get_setting("paused") == "1"
        requeued = self.store.requeue_interrupted()
        if requeued:
            log.info("requeued job(s) %s interrupted by the last stop", requeued)
        # The socket first: a second daemon is refused before it loads a model.
        self._start_features()
        try:
            self.worker.start()
        except WorkerError as exc:
            raise StartupError(str(exc)) from exc
        assert self.memory is not None and self.updates is not None
        self.memory.start()
        self.updates.start()
        self.inbox = Inbox(
            self.cfg.paths.inbox, self.cfg.inbox.settle_seconds, self._intake, self._is_known,
            recursive=self.cfg.inbox.recursive, scan_interval=self.cfg.inbox.scan_interval_seconds,
        )
        self.inbox.start()
        scheduler = threading.Thread(target=self._schedule_loop, name="scheduler", daemon=True)
        scheduler.start()
        self._threads.append(scheduler)
        log.info(
            "voxtrald %s watching %s → %s (model %s%s)", current_version(), self.cfg.paths.inbox,
            self.cfg.paths.transcripts, self.cfg.engine.model, ", paused" if self._paused else "",
        )

    def _start_features(self) -> None:
        """The control API with every feature's routes, then listen on the socket."""
        router = Router()
        core_routes.register(router, self)
        self.memory = MemoryMonitor(self.cfg.memory, self.events, lambda: self.worker.pid)
        self.memory.add_listener(self._on_memory_level)
        memory_routes(router, self.memory)
        self.updates = UpdateChecker(
            self.cfg.updates, self.cfg.paths.state_dir, self.events, current_version()
        )
        update_routes(router, self.updates)
        # A first reading before anyone can ask: "normal" must never mean "not measured yet".
        self.memory.sample_once()
        self.api = ApiServer(self.cfg.socket_path(), router, self.cfg.api)
        try:
            self.api.start()
        except ApiServerError as exc:
            raise StartupError(str(exc)) from exc
        log.info("control API on %s", self.cfg.socket_path())

    def _on_memory_level(self, old: str, new: str) -> None:
        # The scheduler, the only thread that starts and stops the worker, looks at the new
        # level at once: an idle worker goes at critical, held jobs may start below it.
        if new == "critical":
            self._became_critical = True
        self._wake.set()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout=10)
        if self.inbox:
            self.inbox.stop()
        for part in (self.updates, self.memory, self.api):
            if part is not None:
                try:
                    part.stop()
                except Exception:  # noqa: BLE001 - stopping the rest matters more
                    log.exception("error while stopping %s", type(part).__name__)
        self.worker.stop()
        if self.store:
            self.store.close()
        log.info("voxtrald stopped")

    def healthy(self) -> bool:
        """For a service watchdog: every part still runs, and the scheduler is not stuck."""
        threads_ok = all(t.is_alive() for t in self._threads)
        inbox_ok = self.inbox is not None and self.inbox.alive()
        api_ok = self.api is not None and self.api.alive()
        now = time.monotonic()
        beating = now - self._heartbeat < HEARTBEAT_LIMIT or now < self._loading_until
        return threads_ok and inbox_ok and api_ok and beating and not self._stopping.is_set()

    # -- intake ------------------------------------------------------------------------------

    def _is_known(self, path: Path, st: os.stat_result) -> bool:
        assert self.store is not None
        return self.store.known_version(str(path), st.st_size, st.st_mtime)

    def _rel_dir(self, path: Path) -> str:
        try:
            rel = path.parent.relative_to(self.cfg.paths.inbox)
        except ValueError:
            return ""
        return "" if str(rel) == "." else str(rel)

    def _intake(self, path: Path) -> None:
        assert self.store is not None
        st = path.stat()
        rel_dir = self._rel_dir(path)
        error = None
        digest = None
        if st.st_size == 0:
            if sources.download_in_progress(path):
                log.info("%s is empty while its download runs; waiting for it", path.name)
                return
            error = "the file is empty (0 bytes)"
        else:
            try:
                digest = sources.sha256_of(path)
            except PermissionError:
                error = "the file cannot be read (permission denied)"
            except FileNotFoundError:
                log.info("%s vanished before it could be queued", path.name)
                return
        if error and self.store.pending_for(str(path)):
            log.info("%s changed while its job waited or ran: %s", path.name, error)
            return
        if error:
            job = self.store.add_failed(str(path), path.name, rel_dir, st.st_size, st.st_mtime,
                                        error)
            log.warning("job %d %s failed: %s", job["id"], path.name, error)
            self._set_aside(job, error)
            self.events.emit("job_failed", id=job["id"], file=job["file"], error=error,
                             final=True)
            return
        job, refreshed = self.store.add(str(path), path.name, rel_dir, digest, st.st_size,
                                        st.st_mtime, self.cfg.jobs.max_attempts)
        if refreshed:
            log.info("%s changed while job %d waited or ran; it will be transcribed as it is now",
                     path.name, job["id"])
            return
        if job["state"] == "duplicate":
            log.info("%s is the same audio as job %d; not transcribing it again",
                     path.name, job["duplicate_of"])
            new_source = self._dispose_source(job)
            if new_source:
                self.store.set_source(job["id"], new_source)
            return
        log.info("queued job %d: %s", job["id"], path.name)
        self._wake.set()

    # -- scheduling --------------------------------------------------------------------------

    def _hold_reason(self) -> str | None:
        if self.memory is None:
            return None
        try:
            return self.memory.hold_reason(self._model_bytes, self.worker.alive())
        except Exception:  # noqa: BLE001 - a broken reading must not stop the queue
            log.exception("memory check failed")
            return None

    def _schedule_loop(self) -> None:
        """One job at a time; no error, however unexpected, ends this loop."""
        while not self._stopping.is_set():
            try:
                job = self._next_job()
            except Exception:  # noqa: BLE001 - e.g. a locked or full database: try again
                log.exception("cannot read the job queue; trying again")
                self._stopping.wait(1.0)
                continue
            if job is None:
                self._idle_wait()
                continue
            try:
                self._run(job)
            except Exception:  # noqa: BLE001 - the daemon outlives any one job
                log.exception("unexpected error while running job %d", job["id"])
                # The worker may still be busy with this job: its output must not reach the next.
                self.worker.stop()
                try:
                    self._fail_unexpected(job["id"])
                except Exception:  # noqa: BLE001
                    log.exception("cannot record the failure of job %d", job["id"])
                self._stopping.wait(1.0)  # a fault that repeats must not spin
            finally:
                self.worker.last_used = time.monotonic()
                with self._current_lock:
                    self._current = None

    def _fail_unexpected(self, job_id: int) -> None:
        """Count an attempt for a job an internal error cut short, whatever stage it was in."""
        assert self.store is not None
        job = self.store.get(job_id)
        state = job["state"] if job else None
        if state in ("queued", "running"):  # a finished job stays finished
            self._fail(job_id, "internal error (see the daemon log)", permanent=False,
                       count=state == "queued")

    def _next_job(self) -> dict[str, Any] | None:
        assert self.store is not None
        self._heartbeat = time.monotonic()
        if self._paused:
            return None
        job = self.store.next_runnable()
        # Only a job that could start now can be waiting for something.
        self.waiting_reason = self._hold_reason() if job else None
        return job if self.waiting_reason is None else None

    def _idle_wait(self) -> None:
        assert self.store is not None
        self._unload_if_idle()
        wait = 1.0
        try:
            wake_at = self.store.next_wakeup()
        except Exception:  # noqa: BLE001 - next loop reports a broken store
            wake_at = None
        if wake_at is not None and not (self._paused or self.waiting_reason):
            wait = max(0.05, min(wait, wake_at - time.time()))
        self._wake.wait(wait)
        self._wake.clear()

    def _unload_if_idle(self) -> None:
        became_critical, self._became_critical = self._became_critical, False
        if not self.worker.alive():
            return
        idle = self.cfg.engine.idle_unload_seconds
        idle_for = time.monotonic() - self.worker.last_used
        critical = self.memory is not None and self.memory.level == "critical"
        # At critical the model goes at once when the level changes, and otherwise after a
        # short pause, so a batch of files arriving one by one does not reload it each time.
        if critical and (became_critical or idle_for >= CRITICAL_IDLE_GRACE):
            log.warning("memory is critical and no job runs: ending the idle worker")
            self.worker.stop()
        elif idle_for >= idle:
            log.info("idle for %.0f s: ending the worker to give its memory back", idle)
            self.worker.stop()

    def _run(self, job: dict[str, Any]) -> None:
        assert self.store is not None
        job_id = job["id"]
        source = Path(job["source_path"])
        if not source.exists():
            self._fail(job_id, "the source file disappeared before transcription",
                       permanent=True, move=False, count=True)
            return
        job = self.store.start(job_id)
        started = time.monotonic()
        with self._current_lock:
            self._current = {"id": job_id, "file": job["file"], "percent": 0.0,
                             "eta_seconds": None, "started_at": utc_now_iso(),
                             "attempt": job["attempts"]}
        log.info("job %d started: %s (attempt %d of %d)", job_id, job["file"],
                 job["attempts"], job["max_attempts"])
        self.events.emit("job_started", id=job_id, file=job["file"], attempt=job["attempts"])
        try:
            if not self.worker.alive():
                # A big model loads for minutes; the watchdog must not take that for a hang.
                self._loading_until = time.monotonic() + MODEL_LOAD_TIMEOUT
                try:
                    self.worker.start(MODEL_LOAD_TIMEOUT)
                finally:
                    self._loading_until = 0.0
            self.worker.submit(job_id, str(source))
        except WorkerError as exc:
            self._attempt_ended(job_id, str(exc))
            return
        segments: list[dict[str, Any]] = []
        duration: float | None = job["duration"]
        last_progress = 0.0
        transcribe_start = time.monotonic()
        while True:
            self._heartbeat = time.monotonic()
            if self._stopping.is_set():
                log.info("stopping: job %d will run again at the next start", job_id)
                self.worker.stop(grace=1.0)
                self.store.requeue(job_id)
                return
            try:
                msg = self.worker.next_message(timeout=0.25)
            except queue.Empty:
                continue
            if msg is None:
                self._attempt_ended(job_id, self.worker.exit_reason())
                self.worker.stop()
                return
            if msg.get("job_id") != job_id:
                continue  # late output of an attempt that already ended
            kind = msg.get("type")
            if kind == "duration":
                duration = msg.get("duration") or duration
            elif kind == "segment":
                segments.append({"start": msg["start"], "end": msg["end"], "text": msg["text"]})
            if kind in ("segment", "progress") and duration:
                position = float(msg.get("position", 0))
                percent = max(0.0, min(99.9, 100.0 * position / duration))
                elapsed = time.monotonic() - transcribe_start
                eta = elapsed / position * (duration - position) if position > 0 else None
                with self._current_lock:
                    if self._current:
                        self._current.update(percent=round(percent, 1),
                                             eta_seconds=None if eta is None else round(eta, 1))
                if time.monotonic() - last_progress >= PROGRESS_EVERY:
                    last_progress = time.monotonic()
                    self.store.progress(job_id, round(percent, 1),
                                        None if eta is None else round(eta, 1), duration)
            elif kind == "failed":
                self._fail(job_id, msg.get("message", "transcription failed"),
                           permanent=bool(msg.get("permanent")))
                return
            elif kind == "done":
                self._complete(job, segments, msg, time.monotonic() - started)
                return

    def _attempt_ended(self, job_id: int, reason: str) -> None:
        """The worker went away mid-job: the daemon stopping it is no fault of the file."""
        assert self.store is not None
        if self._stopping.is_set():
            self.store.requeue(job_id)
        else:
            self._fail(job_id, reason, permanent=False)

    def _complete(self, job: dict[str, Any], segments: list[dict[str, Any]],
                  msg: dict[str, Any], wall: float) -> None:
        assert self.store is not None
        job_id = job["id"]
        duration = float(msg.get("duration") or 0.0)
        meta = {
            "source": job["file"],
            "language": msg.get("language"),
            "duration": round(duration, 3),
            "model": self.cfg.engine.model,
            "compute_type": self.cfg.engine.compute_type,
            "beam_size": self.cfg.engine.beam_size,
            "transcribed_at": utc_now_iso(),
            "timing": {
                "wall_seconds": round(wall, 3),
                "real_time_factor": round(wall / duration, 4) if duration else None,
                "chunks": msg.get("chunks"),
            },
            "warnings": msg.get("warnings") or [],
            "generator": f"{APP_NAME} {current_version()}",
        }
        changed = self._source_changed(job)
        if changed:
            log.info("%s changed while it was transcribed; transcribing it again once it "
                     "settles", job["file"])
            self.store.requeue(job_id, delay=self.cfg.inbox.settle_seconds + 1,
                               size=changed.st_size, mtime=changed.st_mtime)
            return
        try:
            written = self._write_outputs(job, segments, meta)
        except OutputError as exc:
            self._fail(job_id, str(exc), permanent=False, move=False)
            return
        # Recorded as done before the source moves: a crash in between leaves a known file
        # in the inbox, never a finished job that looks failed.
        self.store.finish(job_id, [str(p) for p in written], duration, round(wall, 3),
                          msg.get("language"))
        new_source = self._dispose_source(job)
        if new_source:
            self.store.set_source(job_id, new_source)
        rtf = wall / duration if duration else 0.0
        log.info("job %d done: %s, %.1f s of audio in %.1f s (real-time factor %.2f)%s",
                 job_id, job["file"], duration, wall, rtf,
                 "; " + "; ".join(meta["warnings"]) if meta["warnings"] else "")
        self.events.emit("job_done", id=job_id, file=job["file"], duration=round(duration, 3),
                         wall_seconds=round(wall, 3), outputs=[str(p) for p in written])

    @staticmethod
    def _source_changed(job: dict[str, Any]) -> os.stat_result | None:
        """The file now, if a writer paused longer than the settle time and went on."""
        try:
            st = Path(job["source_path"]).stat()
        except OSError:
            return None
        return st if (st.st_size, st.st_mtime) != (job["size"], job["mtime"]) else None

    def _write_outputs(self, job: dict[str, Any], segments: list[dict[str, Any]],
                       meta: dict[str, Any]) -> list[Path]:
        assert self.store is not None
        folder = self.cfg.paths.transcripts / job["rel_dir"]
        formats = self.cfg.outputs.formats
        try:
            folder.mkdir(parents=True, exist_ok=True)
            stem = job.get("output_stem") or outputs.free_stem(
                folder, Path(job["file"]).stem, formats)
            self.store.set_output_stem(job["id"], stem)
            return outputs.write_transcripts(folder, stem, formats, segments, meta)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise OutputError(f"cannot write transcripts to {folder}: {reason}") from exc

    def _dispose_source(self, job: dict[str, Any]) -> str | None:
        """Apply `after` (move/keep/delete) to a finished or duplicate job's source."""
        source = Path(job["source_path"])
        how = self.cfg.jobs.after
        try:
            if how == "delete":
                source.unlink(missing_ok=True)
                return None
            if how == "move":
                return str(sources.move_into(source, self.cfg.paths.processed / job["rel_dir"]))
        except OSError as exc:
            log.warning("could not %s %s after transcription: %s", how, source.name, exc)
        return None

    def _set_aside(self, job: dict[str, Any], error: str) -> None:
        """Move a source that failed for good to Failed/ with NAME.error.json beside it."""
        assert self.store is not None
        folder = self.cfg.paths.failed / job["rel_dir"]
        record = {"file": job["file"], "job_id": job["id"], "error": error,
                  "time": utc_now_iso(), "attempts": job["attempts"]}
        source = Path(job["source_path"])
        try:
            target = sources.free_path(folder / source.name)
            self.store.set_source(job["id"], str(target))
            try:
                sources.set_aside(source, target, record)
            except OSError:
                if source.exists():  # still where it was: the job must keep pointing at it
                    self.store.set_source(job["id"], str(source))
                raise
        except OSError as exc:
            log.error("could not set %s aside in %s: %s", job["file"], folder, exc)

    def _fail(self, job_id: int, error: str, permanent: bool, move: bool = True,
              count: bool = False) -> None:
        assert self.store is not None
        job = self.store.get(job_id)
        if job is None:
            return
        if count:
            job = self.store.start(job_id)
        backoff = self.cfg.jobs.retry_backoff_seconds * 2 ** max(0, job["attempts"] - 1)
        final = self.store.fail_attempt(job_id, error, None if permanent else backoff)
        if final is None:
            return  # the job was not running: nothing to record
        job = self.store.get(job_id) or job
        if final:
            log.error("job %d failed for good after %d attempt(s): %s: %s", job_id,
                      job["attempts"], job["file"], error)
            if move:
                self._set_aside(job, error)
        else:
            log.warning("job %d attempt %d failed: %s; retrying in %.0f s", job_id,
                        job["attempts"], error, backoff)
        self.events.emit("job_failed", id=job_id, file=job["file"], error=error, final=final)

    # -- control (the API's view of the daemon) ----------------------------------------------

    @property
    def paused(self) -> bool:
        return self._paused

    def pause(self) -> dict[str, Any]:
        assert self.store is not None
        if not self._paused:
            self._paused = True
            self.store.set_setting("paused", "1")
            log.info("paused: the running job finishes, no new job starts")
            self.events.emit("paused")
        return self.status()

    def resume(self) -> dict[str, Any]:
        assert self.store is not None
        if self._paused:
            self._paused = False
            self.store.set_setting("paused", "0")
            log.info("resumed")
            self.events.emit("resumed")
            self._wake.set()
        return self.status()

    def list_jobs(self, state: str | None, limit: int) -> list[dict[str, Any]]:
        assert self.store is not None
        return [self._public_job(j) for j in self.store.list(state, limit)]

    def get_job(self, job_id: int) -> dict[str, Any] | None:
        assert self.store is not None
        job = self.store.get(job_id)
        return self._public_job(job) if job else None

    def retry_job(self, job_id: int) -> dict[str, Any]:
        """Queue a failed job again, bringing its source back from Failed/ if it was set aside."""
        assert self.store is not None
        job = self.store.get(job_id)
        if job is None:
            raise KeyError(job_id)
        if job["state"] != "failed":
            raise ValueError(f"job {job_id} is {job['state']}; only failed jobs can be retried")
        source = Path(job["source_path"])
        if not source.exists():
            raise ValueError(f"job {job_id}'s source file {source} no longer exists")
        if self.store.pending_for(str(source)):
            raise ValueError(f"{source.name} already has a job waiting or running")
        try:
            if source.is_relative_to(self.cfg.paths.failed):
                source = sources.bring_back(source, self.cfg.paths.inbox / job["rel_dir"])
            job = self.store.retry(job_id, source)
        except OSError as exc:
            raise ValueError(f"cannot bring {source.name} back: {exc.strerror or exc}") from exc
        log.info("job %d queued again by request", job_id)
        self._wake.set()
        return self._public_job(job)

    def _public_job(self, job: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in job.items() if k not in ("created_at_ts", "rel_dir", "mtime",
                                                        "output_stem")}
        with self._current_lock:
            if self._current and self._current["id"] == job["id"]:
                out["percent"] = self._current["percent"]
                out["eta_seconds"] = self._current["eta_seconds"]
        return out

    def status(self) -> dict[str, Any]:
        assert self.store is not None
        with self._current_lock:
            current = dict(self._current) if self._current else None
        if self._paused:
            state = "paused"
        elif current:
            state = "transcribing"
        else:
            state = "idle"
        p = self.cfg.paths
        return {
            "version": current_version(),
            "app_name": APP_NAME,
            "instance": self.events.instance,
            "state": state,
            "paused": self._paused,
            "waiting_reason": None if self._paused else self.waiting_reason,
            "queue": self.store.counts(),
            "current_job": current,
            "folders": {"inbox": str(p.inbox), "transcripts": str(p.transcripts),
                        "processed": str(p.processed), "failed": str(p.failed)},
            "worker": {"loaded": self.worker.alive(), "pid": self.worker.pid},
            "memory": self.memory.summary() if self.memory is not None else None,
            "update": self.updates.summary() if self.updates is not None else None,
            "events_last_seq": self.events.last_seq,
        }


def _setup_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level, logging.INFO), stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("watchdog", "faster_whisper"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def run_daemon(args: argparse.Namespace) -> int:
    overrides = {
        "paths.inbox": args.inbox, "paths.transcripts": args.transcripts,
        "paths.processed": args.processed_dir, "paths.failed": args.failed_dir,
        "paths.state_dir": args.state_dir, "engine.model": args.model,
        "api.socket": args.socket,
    }
    try:
        cfg = config_mod.load(args.config, overrides)
    except config_mod.ConfigError as exc:
        print(f"voxtrald: {exc}", file=sys.stderr)
        return 1
    _setup_logging(args.log_level)
    daemon = Daemon(cfg)
    stop = threading.Event()

    def _on_signal(signum: int, _frame: Any) -> None:
        log.info("received %s, stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    try:
        daemon.start()
    except StartupError as exc:
        print(f"voxtrald: {exc}", file=sys.stderr)
        daemon.stop()
        return 1
    # The socket answers by now: tell a service manager we are up, and keep its watchdog fed.
    sdnotify.notify(f"READY=1\nSTATUS=watching {cfg.paths.inbox}")
    watchdog = sdnotify.Watchdog(daemon.healthy)
    watchdog.start()
    while not stop.wait(0.5):
        pass
    sdnotify.notify("STOPPING=1")
    watchdog.stop()
    daemon.stop()
    return 0

