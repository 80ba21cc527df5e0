"""Applying an update from inside the daemon: everything up to the restart, while it works on.

Download (if not staged yet) and verify, build the new version's
environment, run its self-check; only then record the trial, name the
supervisor in `pending` and ask the daemon to stop (the running job is
checkpointed and resumes in the new version) and start again. The daemon
keeps transcribing during the slow part; any failure before the restart
changes nothing but a removed half-built folder. Also announces, once, what
an earlier update or rollback came to.
"""

from __future__ import annotations

import contextlib
import logging
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from voxtrald.bodies import ApplyState, ApplyStatus, RollbackStarted
from voxtrald.config import Config
from voxtrald.events import EventLog
from voxtrald.install import envbuild, record, rollback
from voxtrald.install.layout import InstallRoot, Kind, LayoutError, Running, detect, how_to_update
from voxtrald.states import EventType
from voxtrald.updates.checker import UpdateChecker
from voxtrald.updates.versions import same_version
from voxtrald.version import current_version

log = logging.getLogger("voxtrald.install")

SELFTEST_TIMEOUT = 15 * 60.0
ANNOUNCE_WAIT = 600.0  # how long a new version waits for its supervisor's verdict


class ApplyError(Exception):
    """An apply or rollback that cannot start or did not finish; `code` names why.

    The subclass says whose the trouble is, so the API can answer with a fitting
    status without this module knowing HTTP.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class ApplyRefused(ApplyError):
    """Not now or not here: nothing to apply, already applying, not an updatable install."""


class DownloadFailed(ApplyError):
    """The release could not be fetched or staged."""


class SelfTestFailed(ApplyError):
    """The new version was installed beside this one but failed its self-check."""


class Applier:
    def __init__(self, cfg: Config, checker: UpdateChecker, events: EventLog,
                 request_restart: Callable[[], None], running: Running | None = None) -> None:
        self.cfg = cfg
        self.checker = checker
        self.events = events
        self.request_restart = request_restart
        self.running = running or detect()
        self.root: InstallRoot | None = self.running.root
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._progress = ApplyState(state="idle", version=None, error=None, code=None)

    # --- what the API shows ---------------------------------------------------------

    def failed_versions(self) -> dict[str, str]:
        return record.failed_versions(self.root) if self.root is not None else {}

    def status(self) -> ApplyStatus:
        with self._lock:
            progress = self._progress.copy()
        return ApplyStatus(
            **progress,
            install=str(self.running.kind),
            root=str(self.root.path) if self.root else None,
            can_apply=self.running.kind == Kind.ROOT,
            how_to_update=how_to_update(self.running) or None,
            versions=self.root.versions() if self.root else [],
        )

    # --- apply ------------------------------------------------------------------------

    def apply(self, retry_failed: bool = False, wanted: str | None = None) -> ApplyState:
        """Start applying the offered update in the background; ApplyError if it cannot.

        `wanted` is the version the user chose (the tray's "Install X"): when a newer
        release came out since, that is not what they agreed to, so it is refused.
        """
        root = self._updatable()
        self._refuse_if_busy()
        result = self.checker.check(refresh=True)  # a deliberate act: ask GitHub now
        version = result.get("latest_version")
        if result.get("rolled_back") and not retry_failed:
            raise ApplyRefused("rolled_back", f"Voxtral {version} was installed here and "
                             f"rolled back ({result.get('rolled_back_reason')}); it is not "
                             "applied again unless asked explicitly")
        if not version or not (result.get("update_available") or result.get("rolled_back")):
            raise ApplyRefused("no_update", result.get("error") or
                             f"no update to apply: {current_version()} is the newest release")
        if wanted is not None and not same_version(wanted, version):
            raise ApplyRefused("version_changed", f"Voxtral {version} is the release on "
                               f"offer now, not {wanted[:64]}; look at it and choose again")
        if root.current() != current_version():
            raise ApplyRefused("not_current", f"{root.path}/current points at "
                             f"{root.current()}, but {current_version()} is running; start "
                             "the install with its launcher first")
        with self._lock:
            self._refuse_if_busy()
            self._progress = ApplyState(state="downloading", version=version, error=None,
                                        code=None)
            self._thread = threading.Thread(target=self._run, args=(root, version, retry_failed),
                                            name="update-apply", daemon=True)
            self._thread.start()
            return self._progress.copy()

    def _refuse_if_busy(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            raise ApplyRefused("busy", f"Voxtral {self._progress['version']} is already "
                             f"being applied ({self._progress['state']})")

    def _updatable(self) -> InstallRoot:
        if self.root is None:
            raise ApplyRefused("not_updatable", how_to_update(self.running))
        return self.root

    def _step(self, state: str) -> None:
        with self._lock:
            self._progress["state"] = state
        log.info("update %s: %s", self._progress["version"], state)

    def _run(self, root: InstallRoot, version: str, retry_failed: bool) -> None:
        try:
            staged = self.checker.download(retry_rolled_back=retry_failed)
            if not staged["staged"]:
                raise DownloadFailed(staged["code"] or "download_failed",
                                     staged["error"] or "the update could not be downloaded")
            verified = self.checker.staged()  # verified again, just before use
            if verified is None or verified["version"] != version:
                raise ApplyRefused("verification_failed", "the staged update no longer "
                                 "verifies; download it again")
            self._step("installing")
            with record.locked(root):
                keep = {current_version(), version} | set(self._previous(root))
                envbuild.sweep_incomplete(root, keep)
            envbuild.build(root, version, Path(verified["path"]), verified["sha256"],
                           signed_at=verified["signed_at"])
            if self._stop.is_set():
                return
            self._step("testing")
            self._selftest(root, version)
            self._step("restarting")
            self._begin_trial(root, version)
        except Exception as exc:  # the daemon goes on; the user learns why, in one line
            code = getattr(exc, "code", "apply_failed")
            if isinstance(exc, OSError):
                message = f"cannot apply the update: {exc.strerror or exc}"
            elif isinstance(exc, ApplyError | envbuild.EnvError | LayoutError | TimeoutError):
                message = str(exc)
            else:
                log.exception("applying %s failed unexpectedly", version)
                message = f"applying the update failed ({type(exc).__name__}: {exc})"
            log.warning("update %s not applied: %s", version, message)
            with self._lock:
                self._progress = ApplyState(state="failed", version=version, error=message,
                                            code=str(code))
            self.events.emit(EventType.UPDATE_FAILED, version=version, message=message)
            return
        self.events.emit(EventType.UPDATE_RESTARTING, version=version, previous=current_version())
        self.request_restart()

    def _previous(self, root: InstallRoot) -> list[str]:
        found = rollback.previous_of(root, current_version())
        return [found] if found else []

    def _selftest(self, root: InstallRoot, version: str) -> None:
        cmd = [str(root.program(version, "voxtrald")), "selftest", "--model",
               self.cfg.engine.model]
        if self.cfg.source is not None:
            cmd += ["--config", str(self.cfg.source)]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=SELFTEST_TIMEOUT,
                                  stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            envbuild.remove(root.version_dir(version))
            raise SelfTestFailed("selftest_failed", f"the self-check of Voxtral {version} "
                             "did not finish; nothing was changed") from None
        if done.returncode != 0:
            envbuild.remove(root.version_dir(version))
            why = (done.stderr.strip().splitlines() or ["no output"])[-1][:300]
            raise SelfTestFailed("selftest_failed", f"the self-check of Voxtral {version} "
                             f"failed ({why}); nothing was changed")

    def _begin_trial(self, root: InstallRoot, version: str) -> None:
        previous = current_version()

        def change(state: dict[str, Any]) -> None:
            state["trial"] = {"version": version, "previous": previous, "starts": 0,
                              "state_dir": str(self.cfg.paths.state_dir),
                              "socket": str(self.cfg.socket_path()),
                              "timeout": self.cfg.updates.health_timeout_seconds,
                              "at": record.now_iso()}
            state["failed"].pop(version, None)
        record.update(root, change)
        record.write_pending(root, previous)

    # --- rollback by hand -------------------------------------------------------------

    def rollback(self) -> RollbackStarted:
        """Put the previous version back and restart into it; ApplyError if there is none."""
        root = self._updatable()
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                raise ApplyRefused("busy", "an update is being applied; wait for it")
            current = current_version()
            previous = rollback.previous_of(root, current)
            if previous is None:
                raise ApplyRefused("no_previous", f"there is no earlier version than "
                                 f"{current} installed in {root.path} to go back to")
            rollback.begin(root, current, previous, "rolled back by hand",
                           self.cfg.paths.state_dir)
            record.write_pending(root, current)
            self._progress = ApplyState(state="rolling back", version=previous, error=None,
                                        code=None)
        self.request_restart()
        return RollbackStarted(rolling_back=True, version=current, previous=previous)

    # --- news from the last update ----------------------------------------------------

    def start(self) -> None:
        """Announce what an earlier update or rollback came to (once each)."""
        if self.root is None:
            return
        threading.Thread(target=self._announce, name="update-news", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()

    def _announce(self) -> None:
        assert self.root is not None
        me = current_version()
        waited = 0.0
        while not self._stop.is_set():
            state = record.load(self.root)
            rolled = state["rolled_back"]
            if rolled and not rolled.get("announced") and rolled.get("previous") == me:
                self._mark("rolled_back")
                self.events.emit(EventType.UPDATE_ROLLED_BACK, version=rolled["version"],
                                 restored=me, reason=rolled.get("reason"))
            applied = state["applied"]
            if applied and not applied.get("announced") and applied.get("version") == me:
                self._mark("applied")
                self.events.emit(EventType.UPDATE_APPLIED, version=me, previous=applied["previous"])
            trial = state["trial"]
            if trial is None or trial.get("version") != me or waited >= ANNOUNCE_WAIT:
                return
            self._stop.wait(1.0)  # our own trial: the supervisor's verdict comes shortly
            waited += 1.0

    def _mark(self, key: str) -> None:
        assert self.root is not None

        def change(state: dict[str, Any]) -> None:
            if state[key] is not None:
                state[key]["announced"] = True
        with contextlib.suppress(OSError, TimeoutError):
            record.update(self.root, change)
