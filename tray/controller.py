"""The poll loop and menu actions: feeds the daemon's answers to the notifier.

All decisions are in tray.notifier; this module only moves data between the
socket, the state machine, the notification backend and the state file, and
tells the UI (a callback) when something changed. It holds no toolkit code,
so it runs the same under pystray or headless.
"""

from __future__ import annotations

import logging
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path

from tray import (
    desktop,
    notifier,
    peek,
    starter,
    statefile,
)
from tray.client import ActionFailed, Offline, TrayClient
from tray.installing import InstallState
from tray.model import Queued
from tray.notices import Command, name
from tray.notifier import Notification, Settings, TrayState
from tray.prefs import NotifyPrefs
from tray.requests import UserRequests
from tray.state import QUEUE_SHOWN

log = logging.getLogger(__name__)

BACKOFF_FIRST = 1.0
BACKOFF_MAX = 10.0


class Controller(UserRequests):
    def __init__(
        self,
        client: TrayClient,
        settings: Settings,
        send: Callable[[Notification], object],
        state_file: Path,
        poll_seconds: float = 2.0,
        default_prefs: NotifyPrefs | None = None,
        log_file: Path | None = None,
        local_folders: dict[str, str] | None = None,
        start_daemon: Callable[[], starter.Started] | None = None,
        stop_daemon: Callable[[starter.Started | None], None] | None = None,
    ) -> None:
        self.client = client
        self.settings = settings
        self.send = send
        self.state_file = state_file
        self.poll_seconds = poll_seconds
        self.stop_event = threading.Event()
        self.on_change: Callable[[TrayState], None] = lambda _state: None
        self._lock = threading.RLock()
        self.log_file = log_file
        saved = statefile.load_announced(state_file)
        prefs = statefile.load_prefs(state_file, default_prefs or NotifyPrefs())
        news = statefile.load_news(state_file)
        self._saved = (saved, prefs, news)
        self.state = TrayState(announced_versions=saved, prefs=prefs,
                               install=InstallState(news_seen=news),
                               local_folders=dict(local_folders or {}))
        self._start_daemon = start_daemon
        self._stop_daemon = stop_daemon
        self._started: starter.Started | None = None
        self.daemon_log: Path | None = None
        self._offline_logged = False
        self._recent_done: int | None = None  # the done count the recent list was read at
        self._queue_seen: tuple[int, int | None] | None = None  # (queued, running id) read at

    # -- state updates -------------------------------------------------------------

    def _apply(self, fn: Callable[[TrayState], tuple[TrayState, list[Notification]]]) -> None:
        with self._lock:
            before = self.state
            self.state, notes = fn(before)
            state = self.state
            wanted = (state.announced_versions, state.prefs, state.install.news_seen)
            if wanted != self._saved and statefile.save(self.state_file, *wanted):
                self._saved = wanted
        for note in notes:
            self.send(note)
        if state != before:
            self.on_change(state)

    def _went_offline(self, reason: str) -> None:
        if not self._offline_logged:
            log.warning("daemon not reachable: %s", reason)
            self._offline_logged = True
        self._apply(lambda s: (notifier.on_offline(s, reason), []))

    def refresh_status(self) -> None:
        status = self.client.status()
        if self._offline_logged:
            log.info("daemon reachable again")
            self._offline_logged = False
        now = time.monotonic()
        self._apply(lambda s: notifier.on_status(s, status, self.settings, now))
        if status.done != self._recent_done:
            self._refresh_recent(status.done)
        seen = (status.queued, status.job.id if status.job else None)
        if seen != self._queue_seen:
            self._refresh_queue(seen)
        if notifier.watch_apply(self.state):
            progress = self.client.apply_progress()
            self._apply(lambda s: (notifier.on_apply_progress(s, progress), []))
        if self.state.history_wanted:
            self._read_history()

    def _read_history(self) -> None:
        """The events a daemon just met still holds: the outcome of an install may be there."""
        batch = self.client.events(0, 0)
        self._apply(lambda s: notifier.on_history(s, batch))

    def _refresh_queue(self, seen: tuple[int, int | None]) -> None:
        items: tuple[Queued, ...] = ()
        if seen[0]:
            try:
                items = self.client.queue(QUEUE_SHOWN)
            except ActionFailed as exc:
                log.debug("cannot read the queue: %s", exc)
                return
        self._queue_seen = seen
        self._apply(lambda s: (notifier.on_queue(s, items), []))

    def _refresh_recent(self, done: int) -> None:
        try:
            items = self.client.recent(notifier.RECENT)
        except ActionFailed as exc:
            log.debug("cannot read the recent transcripts: %s", exc)
            return
        self._recent_done = done
        peeked = tuple(replace(i, empty=peek.first_line(i.transcript or "")[0]) for i in items)
        kept = tuple(i for i in peeked if not i.empty)
        self._apply(lambda s: (notifier.on_recent(s, kept), []))

    # -- the loop ------------------------------------------------------------------

    def run(self) -> None:
        """Poll status every poll_seconds and long-poll events in between, until stopped."""
        backoff = BACKOFF_FIRST
        last_status = float("-inf")
        while not self.stop_event.is_set():
            try:
                now = time.monotonic()
                if now - last_status >= self.poll_seconds or not self.state.online:
                    self.refresh_status()
                    last_status = time.monotonic()
                wait = max(0.1, self.poll_seconds - (time.monotonic() - last_status))
                if self.client.events_supported:
                    after = self.state.last_seq or 0
                    batch = self.client.events(after, wait)
                    if notifier.wants_status_first(batch):
                        self.refresh_status()
                        last_status = time.monotonic()
                    self._apply(partial(notifier.on_events, batch=peek.enrich(batch),
                                        settings=self.settings, now=time.monotonic()))
                else:
                    self.stop_event.wait(wait)
                self._apply(partial(notifier.on_tick, now=time.monotonic(),
                                    settings=self.settings))
                if self.state.status is not None and self.state.status.job is not None:
                    self.on_change(self.state)  # the tooltip's ETA counts down between reports
                backoff = BACKOFF_FIRST
            except Offline as exc:
                self._went_offline(str(exc))
                self.stop_event.wait(backoff)
                backoff = min(backoff * 2, BACKOFF_MAX)
            except Exception:  # a bug must not end the tray: log it and keep polling
                log.exception("unexpected error in the poll loop")
                self.stop_event.wait(backoff)
                backoff = min(backoff * 2, BACKOFF_MAX)

    def stop(self) -> None:
        self.stop_event.set()

    # -- menu actions (run off the UI thread) ----------------------------------------

    def _after_action(self) -> None:
        try:
            self.refresh_status()
        except Offline as exc:
            self._went_offline(str(exc))

    def toggle_pause(self) -> None:
        st = self.state.status
        self._pause(not (st is not None and st.paused))

    def _pause(self, pause: bool) -> None:
        try:
            if pause:
                self.client.pause()
            else:
                self.client.resume()
        except ActionFailed as exc:
            log.warning("pause/resume failed: %s", exc)
        self._after_action()

    def open_folder(self, which: str) -> None:
        st = self.state.status if self.state.online else None
        folder = st.folders.get(which) if st else self.state.local_folders.get(which)
        if folder:
            desktop.open_folder(folder)

    def open_log(self) -> None:
        """The daemon's log where the tray started it (failures are explained there);
        else the tray's own."""
        for candidate in (self.daemon_log, self.log_file):
            if candidate is not None and candidate.is_file():
                desktop.open_file(str(candidate))
                return

    def open_failed(self) -> None:
        self.open_folder("failed")
        self._apply(lambda s: (notifier.on_failures_seen(s), []))

    def start_daemon(self) -> None:
        """Start Voxtral (its service if installed, else `voxtrald run`, detached)."""
        if self._start_daemon is None or self.state.starting:
            return
        try:
            started = self._start_daemon()
        except (OSError, subprocess.SubprocessError) as exc:
            log.warning("cannot start voxtrald: %s", exc)
            self.send(Notification("job_failed", "Could not start Voxtral", name(str(exc))))
            return
        self._started = started
        if started.log_file is not None:
            self.daemon_log = started.log_file
        self._apply(lambda s: (notifier.on_starting(s, started.log_file is not None), []))

    def stop_daemon(self) -> None:
        """Stop Voxtral the way it was started (the tray's own process, or its service)."""
        if self._stop_daemon is None:
            return
        try:
            self._stop_daemon(self._started)
        except (OSError, subprocess.SubprocessError) as exc:
            log.warning("cannot stop voxtrald: %s", exc)
            self.send(Notification("job_failed", "Could not stop Voxtral", name(str(exc))))

    def toggle_notifications(self, key: str) -> None:
        """A switch of the Notifications menu ("memory", "updates", "job_done", ...)."""
        self._apply(lambda s: (notifier.on_toggle(s, key), []))
        log.info("notifications: %s", ", ".join(
            f"{k} {'on' if v else 'off'}" for k, v in self.state.prefs.to_dict().items()))

    def run_command(self, command: Command) -> None:
        """Do what a notification's button or a menu entry asks for."""
        verb, arg = command.verb, command.arg
        if verb == "open_file":
            desktop.open_file(arg)
        elif verb == "open_folder":
            desktop.open_folder(arg)
        elif verb == "open_release":
            desktop.open_release_page(arg if isinstance(arg, str) else None)
        elif verb == "skip_version" and isinstance(arg, str):
            self._skip(arg)
        elif verb == "pause":
            if arg == "memory":  # from a memory notice: recalled when memory is normal
                self._apply(lambda s: (notifier.on_paused_for_memory(s), []))
            self._pause(True)
        elif verb == "resume":
            self._pause(False)
        elif verb == "copy_text" and isinstance(arg, str):
            self.copy_text(arg)
        elif verb == "retry" and isinstance(arg, int):
            self.retry(arg)
        elif verb == "show_error" and isinstance(arg, int):
            self.show_error(arg)
        elif verb == "install_update" and isinstance(arg, str):
            self.install_update(arg)
        elif verb == "cancel" and isinstance(arg, int):
            self.cancel(arg)
        else:
            log.warning("ignoring %s %r", verb, arg)

    def open_release_page(self) -> None:
        offer = self.state.update_offer()
        if offer:
            desktop.open_release_page(offer[1])

    def check_updates(self) -> None:
        try:
            result = self.client.check_updates()
        except ActionFailed as exc:
            self.send(Notification("update", "Could not check for updates", str(exc), "low"))
            return
        self._after_action()
        if not result["update_available"]:
            if result["error"]:
                self.send(Notification("update", "Could not check for updates",
                                       result["error"], "low"))
            else:
                version = result["current_version"]
                self.send(
                    Notification("update", "Voxtral is up to date", f"Version {version}", "low")
                )
        elif self.state.update_offer() is None:
            # Available but skipped earlier: the user asked, so say so.
            self.send(
                Notification(
                    "update",
                    f"Voxtral {result['latest_version']} is available (skipped)",
                    "You chose to skip this version.",
                    "low",
                )
            )

    def install_update(self, version: str) -> None:
        """Ask the daemon to install `version` and restart; a refusal is told, not raised."""
        accepted = False

        def request(state: TrayState) -> tuple[TrayState, list[Notification]]:
            nonlocal accepted  # checked and set under the lock: two clicks, one request
            accepted = state.install.applying is None
            return notifier.on_apply_requested(state, version), []

        self._apply(request)
        if not accepted:
            log.info("an install of %s is already running", self.state.install.applying)
            return
        log.info("installing %s", name(version))
        try:
            progress = self.client.apply_update(version)
        except ActionFailed as exc:
            reason = str(exc)
            log.warning("install of %s refused: %s", name(version), reason)
            self._apply(lambda s: notifier.on_apply_refused(s, version, reason))
            self._after_action()
            return
        self._apply(lambda s: (notifier.on_apply_started(s, progress), []))

    def skip_version(self) -> None:
        offer = self.state.update_offer()
        if offer:
            self._skip(offer[0])

    def _skip(self, version: str) -> None:
        try:
            self.client.dismiss_version(version)
        except ActionFailed as exc:
            log.warning("could not skip version %s: %s", version, exc)
        self._apply(lambda s: (notifier.on_skip_version(s, version), []))
        self._after_action()

    def dismiss_memory(self) -> None:
        self._apply(lambda s: (notifier.on_dismiss_memory(s), []))
