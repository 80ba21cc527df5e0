"""voxtrald's wiring: build the parts, start them in order, stop them in reverse.

Inbox -> intake -> job store -> scheduler -> job runner -> worker -> outputs,
plus the control API, the memory monitor and the update checker. Every rule
lives in the part that owns it; this module only connects them and answers
one question for the service watchdog: is every part still working?
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from voxtrald.api import core_routes, transcript_routes
from voxtrald.api.control import Control
from voxtrald.api.router import Router
from voxtrald.api.server import ApiServer, ApiServerError
from voxtrald.api.speaker_routes import register_routes as speaker_routes
from voxtrald.api.team_view import TeamView
from voxtrald.config import Config
from voxtrald.events import EventLog
from voxtrald.files.locks import LockFile
from voxtrald.inbox.watcher import Inbox
from voxtrald.install.apply import Applier
from voxtrald.install.layout import signed_at
from voxtrald.jobs import teamwork
from voxtrald.jobs.activity import CurrentJob, Heartbeat
from voxtrald.jobs.disposal import Disposal
from voxtrald.jobs.intake import Intake
from voxtrald.jobs.lease import TeamLease
from voxtrald.jobs.outcomes import Outcomes
from voxtrald.jobs.runner import JobRunner
from voxtrald.jobs.scheduler import Scheduler
from voxtrald.memory.routes import register_routes as memory_routes
from voxtrald.memory.sampler import MemoryMonitor
from voxtrald.models import model_files_bytes
from voxtrald.startup import StartupError, lock_state_dir, open_store, prepare_folders
from voxtrald.store.jobs import JobStore
from voxtrald.store.pg.team import TeamStore
from voxtrald.updates.checker import UpdateChecker
from voxtrald.updates.routes import register_routes as update_routes
from voxtrald.version import current_version
from voxtrald.worker.process import WorkerError, WorkerProcess, worker_settings

log = logging.getLogger("voxtrald")
# A running job this long without news is reported by /api/health (it is stopped later,
# at the configurable stall limit).
STALL_REPORT_SECONDS = 60.0


class Daemon:
    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self.events = EventLog()
        self.stopping = threading.Event()
        self.heartbeat = Heartbeat()
        self.current = CurrentJob()
        self.worker = WorkerProcess(worker_settings(cfg))
        self._state_lock = LockFile(cfg.paths.state_dir / "voxtrald.lock")
        self._model_bytes = model_files_bytes(cfg.engine.model)
        self.store: JobStore | None = None
        self.scheduler: Scheduler | None = None
        self.runner: JobRunner | None = None
        self.inbox: Inbox | None = None
        self.api: ApiServer | None = None
        self.memory: MemoryMonitor | None = None
        self.updates: UpdateChecker | None = None
        self.applier: Applier | None = None
        self.lease: TeamLease | None = None
        self.restart = threading.Event()  # set when an update or rollback needs a restart

    def start(self) -> None:
        cfg = self.cfg
        lock_state_dir(self._state_lock, cfg.paths.state_dir)
        prepare_folders(cfg)
        self.store = store = open_store(cfg)
        disposal = Disposal(store, cfg)
        disposal.reconcile()
        outcomes = Outcomes(store, cfg, self.events, disposal)
        outcomes.stopping = self.stopping
        self.runner = runner = JobRunner(store, self.worker, outcomes, cfg, self.events,
                                         self.current, self.heartbeat, self.stopping)
        share = teamwork.share_check(cfg, store)
        self.memory = memory = MemoryMonitor(cfg.memory, self.events, lambda: self.worker.pid)
        self.scheduler = scheduler = Scheduler(
            store, runner, outcomes, self.worker, self.events, self.current, self.heartbeat,
            self.stopping, cfg.engine.idle_unload_seconds,
            hold_reason=lambda: share.reason() or memory.hold_reason(self._model_bytes,
                                                                     self.worker.alive()),
            memory_level=lambda: memory.level,
        )
        memory.add_listener(scheduler.memory_level_changed)
        self.updates = UpdateChecker(cfg.updates, cfg.paths.state_dir, self.events,
                                     current_version(), failed_versions=self._failed_versions,
                                     can_apply=lambda: self.applier is not None
                                     and self.applier.root is not None)
        self.applier = Applier(cfg, self.updates, self.events, self.restart.set)
        self.updates.require_signed_after(signed_at(self.applier.running.version_dir))
        control = Control(cfg, store, scheduler, self.current, self.events,
                          lambda: {"loaded": self.worker.alive(), "pid": self.worker.pid},
                          memory.summary, self.updates.summary, self.problems)
        control.team = TeamView(store) if isinstance(store, TeamStore) else control.team
        # A first reading before anyone can ask: "normal" must never mean "not measured yet".
        memory.sample_once()
        # The socket before the model: a second daemon is refused before it loads one.
        self._listen(control)
        try:
            self.worker.start()
        except WorkerError as exc:
            raise StartupError(str(exc)) from exc
        memory.start()
        self.updates.start()
        self.applier.start()
        intake = Intake(store, cfg, self.events, disposal, scheduler.wake)
        self.lease = teamwork.lease(store, runner, lambda: str(memory.level), scheduler.wake,
                                    self.events, self.stopping)
        self.inbox = Inbox(cfg.paths.inbox, cfg.inbox.settle_seconds, intake.take,
                           intake.is_known, recursive=cfg.inbox.recursive,
                           scan_interval=teamwork.scan_interval(cfg, store))
        store.health.on_recover = self.inbox.request_scan
        self.inbox.start()
        scheduler.start()
        if self.lease is not None:
            self.lease.start()
        log.info("voxtrald %s watching %s → %s (model %s%s)", current_version(), cfg.paths.inbox,
                 cfg.paths.transcripts, cfg.engine.model,
                 ", paused" if scheduler.paused else "")

    def _listen(self, control: Control) -> None:
        assert self.memory is not None and self.updates is not None
        router = Router()
        core_routes.register(router, control)
        assert self.store is not None
        transcript_routes.register(router, self.cfg, self.store)
        memory_routes(router, self.memory)
        update_routes(router, self.updates, self.applier)
        speaker_routes(router, control.store)
        self.api = ApiServer(self.cfg.socket_path(), router, self.cfg.api)
        try:
            self.api.start()
        except ApiServerError as exc:
            raise StartupError(str(exc)) from exc
        log.info("control API on %s", self.cfg.socket_path())

    def stop(self) -> None:
        self.stopping.set()
        if self.scheduler is not None:
            self.scheduler.join(timeout=10)
        parts: list[Any] = [self.inbox, self.applier, self.updates, self.memory, self.api,
                            self.lease, self.runner.outcomes.hooks if self.runner else None]
        for part in parts:
            if part is None:
                continue
            try:
                part.stop()
            except Exception:
                log.exception("error while stopping %s", type(part).__name__)
        self.worker.stop()
        if self.store is not None:
            self.store.close()
        self._state_lock.release()
        log.info("voxtrald stopped")

    def _failed_versions(self) -> dict[str, str]:
        return self.applier.failed_versions() if self.applier is not None else {}

    def healthy(self) -> bool:
        """For a service watchdog: every part still runs, and the scheduler is not stuck."""
        parts_alive = all(part is not None and part.alive()
                          for part in (self.scheduler, self.inbox, self.api))
        return parts_alive and self.heartbeat.fresh() and not self.stopping.is_set()

    def problems(self) -> list[str]:
        """What a user should know is wrong, for /api/health; empty when all is well."""
        found = [f"the {name} is not running" for name, part in
                 (("scheduler", self.scheduler), ("inbox watcher", self.inbox),
                  ("control API", self.api)) if part is None or not part.alive()]
        if self.inbox is not None:
            found.extend(self.inbox.problems())
        if self.store is not None and (unwritable := self.store.health.problem()):
            found.append(unwritable)
        if isinstance(self.store, TeamStore) and self.store.refused:
            found.append(f"no new job is taken: {self.store.refused}")
        if self.runner is not None:
            found.extend(self.runner.holds.problems())
        if self.runner is not None and self.runner.load_error:
            found.append(f"the model cannot be loaded: {self.runner.load_error}")
        if not self.heartbeat.fresh():
            found.append("the scheduler has stopped making progress")
        silent = self.current.silent_for()
        job = self.current.snapshot()
        if job and silent >= min(STALL_REPORT_SECONDS, self.cfg.jobs.stall_seconds / 2):
            found.append(f"job {job['id']} ({job['file']}) has made no progress for "
                         f"{silent:.0f} s")
        return found
