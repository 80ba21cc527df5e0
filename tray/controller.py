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
from tray.notifier import Notification, Settings, TrayState

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
    ) -> None:
        self.client = client
        self.settings = settings
        self.send = send
        self.state_file = state_file
        self.poll_seconds = poll_seconds
        self.stop_event = threading.Event()
        self.on_change: Callable[[TrayState], None] = lambda _state: None
        self._lock = threading.RLock()
        saved = statefile.load_announced(state_file)
        self._saved_versions = saved
        self.state = TrayState(announced_versions=saved)
        self._offline_logged = False

    # -- state updates -------------------------------------------------------------

    def _apply(self, fn: Callable[[TrayState], tuple[TrayState, list[Notification]]]) -> None:
        with self._lock:
            before = self.state
            self.state, notes = fn(before)
            state = self.state
            if state.announced_versions != self._saved_versions and statefile.save_announced(
                self.state_file, state.announced_versions
            ):
                self._saved_versions = state.announced_versions
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
                    self._apply(partial(notifier.on_events, batch=batch, settings=self.settings))
                else:
                    self.stop_event.wait(wait)
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
        try:
            if st is not None and st.paused:
                self.client.resume()
            else:
                self.client.pause()
        except ActionFailed as exc:
            log.warning("pause/resume failed: %s", exc)
        self._after_action()

    def open_folder(self, which: str) -> None:
        st = self.state.status
        folder = st.folders.get(which) if st else None
        if folder:
            desktop.open_folder(folder)

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

    def skip_version(self) -> None:
        offer = self.state.update_offer()
        if not offer:
            return
        try:
            self.client.dismiss_version(offer[0])
        except ActionFailed as exc:
            log.warning("could not skip version %s: %s", offer[0], exc)
        self._apply(lambda s: (notifier.on_skip_version(s, offer[0]), []))
        self._after_action()

    def dismiss_memory(self) -> None:
        self._apply(lambda s: (notifier.on_dismiss_memory(s), []))
