"""The poll loop and menu actions: feeds the daemon's answers to the notifier.

All decisions are in tray.notifier; this module only moves data between the
socket, the state machine, the notification backend and the state file, and
tells the UI (a callback) when something changed. It holds no toolkit code,
so it runs the same under pystray or headless.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from tray import desktop, notifier, statefile
from tray.client import ActionFailed, Offline, TrayClient
from tray.installing import InstallState
from tray.notices import Command, name
from tray.notifier import Notification, Settings, TrayState
from tray.prefs import NotifyPrefs
from voxtrald.jobs import sources

log = logging.getLogger(__name__)

BACKOFF_FIRST = 1.0
BACKOFF_MAX = 10.0


class Controller:
    def __init__(
        self,
        client: TrayClient,
        settings: Settings,
        send: Callable[[Notification], object],
        state_file: Path,
        poll_seconds: float = 2.0,
        default_prefs: NotifyPrefs | None = None,
        log_file: Path | None = None,
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
                               install=InstallState(news_seen=news))
        self._offline_logged = False
        self._recent_done: int | None = None  # the done count the recent list was read at

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
        self._apply(lambda s: notifier.on_status(s, status, self.settings))
        if status.done != self._recent_done:
            self._refresh_recent(status.done)
        if notifier.watch_apply(self.state):
            progress = self.client.apply_progress()
            self._apply(lambda s: (notifier.on_apply_progress(s, progress), []))
        if self.state.history_wanted:
            self._read_history()

    def _read_history(self) -> None:
        """The events a daemon just met still holds: the outcome of an install may be there."""
        batch = self.client.events(0, 0)
        self._apply(lambda s: notifier.on_history(s, batch))

    def _refresh_recent(self, done: int) -> None:
        try:
            items = self.client.recent(notifier.RECENT)
        except ActionFailed as exc:
            log.debug("cannot read the recent transcripts: %s", exc)
            return
        self._recent_done = done
        self._apply(lambda s: (notifier.on_recent(s, items), []))

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
                    self._apply(partial(notifier.on_events, batch=batch, settings=self.settings,
                                        now=time.monotonic()))
                else:
                    self.stop_event.wait(wait)
                self._apply(partial(notifier.on_tick, now=time.monotonic()))
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
        st = self.state.status
        folder = st.folders.get(which) if st else None
        if folder:
            desktop.open_folder(folder)

    def open_log(self) -> None:
        if self.log_file is not None:
            desktop.open_file(str(self.log_file))

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
            self._pause(True)
        elif verb == "retry" and isinstance(arg, int):
            self.retry(arg)
        elif verb == "show_error" and isinstance(arg, int):
            self.show_error(arg)
        elif verb == "install_update" and isinstance(arg, str):
            self.install_update(arg)
        else:
            log.warning("ignoring %s %r", verb, arg)

    def retry(self, job_id: int) -> None:
        try:
            job = self.client.retry(job_id)
        except ActionFailed as exc:
            self.send(Notification("job_failed", "Could not retry", name(str(exc)), "low"))
            return
        log.info("job %d (%s) queued again", job_id, name(str(job.get("file", ""))))
        self._after_action()

    def show_error(self, job_id: int) -> None:
        """Open the failed file's error report if it is here; else show its error."""
        try:
            job = self.client.job(job_id)
        except ActionFailed as exc:
            self.send(Notification("job_failed", "Could not read the error", name(str(exc)),
                                   "low"))
            return
        source = job.get("source_path")
        if isinstance(source, str) and source:
            report = str(sources.report_path(Path(source)))
            if desktop.local_path(report, want_dir=False) and desktop.open_file(report):
                return
        error, file = job.get("error"), job.get("file")
        error = error if isinstance(error, str) and error else "no error recorded"
        file = file if isinstance(file, str) and file else "the file"
        self.send(Notification("job_failed", f"Why {name(file)} failed", name(error)))

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
        if result.get("update_available") is not True:
            error = result.get("error")
            if isinstance(error, str) and error:
                self.send(Notification("update", "Could not check for updates", error, "low"))
            else:
                version = result.get("current_version") or ""
                self.send(
                    Notification("update", "Voxtral is up to date", f"Version {version}", "low")
                )
        elif self.state.update_offer() is None:
            # Available but skipped earlier: the user asked, so say so.
            self.send(
                Notification(
                    "update",
                    f"Voxtral {result.get('latest_version')} is available (skipped)",
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
