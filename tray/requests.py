"""What the person asks for from a menu or a notice, beyond moving state around.

Retry (refused when it cannot help), Cancel (from the queue view), Show error,
Copy text, About, the X11 click's status, and "Transcribe a file…". A mixin of the Controller, kept
apart so each module stays small; it uses only what is declared below.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

from tray import actions, adding, clipboard, desktop, notices, portal, view
from tray.client import ActionFailed, TrayClient
from tray.notices import Action, Command, Notification, name
from tray.state import TrayState
from voxtrald.version import current_version

log = logging.getLogger("tray.controller")


class UserRequests:
    client: TrayClient
    state: TrayState
    send: Callable[[Notification], object]

    def _after_action(self) -> None:
        raise NotImplementedError

    def copy_text(self, transcript: str) -> None:
        """Put a transcript's text on the clipboard (only a local .txt is read)."""
        text = actions.read_transcript(transcript, clipboard.MAX_BYTES)
        if text is not None and not clipboard.copy(text):
            self.send(Notification("job_done", "Could not copy the text",
                                   "No clipboard tool works here (wl-clipboard, xclip or xsel).",
                                   "low"))

    def transcribe_files(self) -> None:
        """"Transcribe a file…": the desktop's file chooser, then copies into the inbox."""
        st = self.state.status if self.state.online else None
        inbox = (st.folders if st else self.state.local_folders).get("inbox")
        try:
            chosen = portal.choose_audio()
        except portal.PortalError as exc:
            log.warning("file chooser: %s", exc)
            self.send(Notification("job_failed", "Could not open the file chooser",
                                   name(str(exc)), "low"))
            return
        if not chosen or not inbox:
            return
        added = adding.add_to_inbox(chosen, inbox)
        if added.refused:
            file, why = added.refused[0]
            more = len(added.refused) - 1
            self.send(Notification(
                "job_failed", f"Cannot transcribe {file}" + (f" and {more} more" if more else ""),
                f"{why[:1].upper()}{why[1:]}. Nothing was changed."))

    def show_status(self) -> None:
        """The tooltip's line as a notice, for an X11 tray icon that cannot show tooltips."""
        state = self.state
        st = state.status if state.online else None
        folders = st.folders if st else state.local_folders
        line = view.tooltip(state, time.monotonic()).removeprefix(f"{view.APP_TITLE} — ")
        self.send(notices.status_notice(line, folders.get("transcripts"), state.online,
                                        bool(st and st.paused)))

    def about(self) -> None:
        st = self.state.status if self.state.online else None
        at = error = None
        if st is not None:
            try:
                checked = self.client.update_check()
                at, error = checked["checked_at"] or None, checked["error"] or None
            except ActionFailed as exc:
                log.debug("no update state to show: %s", exc)
        self.send(notices.about_notice(st.version if st else None, current_version(), at, error))

    def retry(self, job_id: int) -> None:
        try:
            record = self.client.job(job_id)
        except ActionFailed as exc:
            self.send(Notification("job_failed", "Could not retry", name(str(exc)), "low"))
            return
        if actions.retry_is_pointless(record):
            file = name(record["file"] or "the file")
            folder = str(Path(record["source_path"]).parent)
            log.info("not retrying job %d: %s is unchanged since it failed", job_id, file)
            self.send(Notification(
                "job_failed", f"Replace {file} first",
                f"{file} could not be read as audio, and it has not changed since. Put a good "
                "copy in its place in the Failed folder, then press Retry.", "normal",
                (Action("open_folder", "Open Failed folder", Command("open_folder", folder)),)))
            return
        try:
            job = self.client.retry(job_id)
        except ActionFailed as exc:
            self.send(Notification("job_failed", "Could not retry", name(str(exc)), "low"))
            return
        log.info("job %d (%s) queued again", job_id, name(job["file"]))
        self._after_action()

    def cancel(self, job_id: int) -> None:
        """Cancel a file of the queue view; said in a notice that can undo it."""
        try:
            job = self.client.cancel(job_id)
        except ActionFailed as exc:
            log.warning("cannot cancel job %d: %s", job_id, exc)
            self.send(Notification("cancelled", "Could not cancel", notices.sentence(str(exc)),
                                   "low"))
            self._after_action()
            return
        file = name(job["file"] or "the file")
        log.info("job %d (%s) cancelled", job_id, file)
        self.send(notices.cancelled_notice(job_id, file))
        self._after_action()

    def show_error(self, job_id: int) -> None:
        """Why a job failed and what to do about it, with the Failed folder a click away
        (the file and its report are there); not the raw report, which repeats the notice."""
        try:
            job = self.client.job(job_id)
        except ActionFailed as exc:
            self.send(Notification("job_failed", "Could not read the error", name(str(exc)),
                                   "low"))
            return
        error = job["error"] or "no error recorded"
        file = name(job["file"] or "the file")
        if actions.retry_is_pointless(job):
            advice = f"Put a good copy of {file} in the Failed folder, then press Retry."
        else:
            advice = "Retry may help; the daemon's log has the details."
        buttons: list[Action] = []
        source = job["source_path"]
        folder = str(Path(source).parent) if source else None
        if folder and desktop.local_path(folder, want_dir=True):
            buttons.append(Action("open_folder", "Open Failed folder",
                                  Command("open_folder", folder)))
        buttons.append(Action("retry", "Retry", Command("retry", job_id)))
        self.send(Notification("job_failed", f"Why {file} failed",
                               f"{notices.sentence(error)} {advice}", actions=tuple(buttons)))

