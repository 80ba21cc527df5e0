"""The tray's view of the daemon API, on top of voxtrald.client.connection.

The tray never shows an error dialog: every way the daemon can fail to give
a usable answer (gone, timing out, answering garbage, a 5xx) becomes one
exception, Offline, which the poll loop turns into a grey icon and a retry.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tray.model import (
    ApplyProgress,
    EventBatch,
    Finished,
    Queued,
    Status,
    queue_from_jobs,
    recent_from_jobs,
)
from voxtrald import bodies
from voxtrald.client.connection import ApiResponseError, Client, DaemonUnreachable, ForeignServer
from voxtrald.client.read import read


class Offline(Exception):
    """No usable answer from the daemon; the message is for the log and tooltip."""


class ActionFailed(Exception):
    """The daemon refused a user action (pause, dismiss, ...); the message says why."""


class TrayClient:
    def __init__(self, socket_path: Path | str | None = None, timeout: float = 5.0) -> None:
        self._client = Client(socket_path, timeout=timeout)
        self.timeout = timeout
        # Cleared when the daemon has no events route (an older daemon): poll only.
        self.events_supported = True

    @property
    def socket_path(self) -> Path:
        return self._client.socket_path

    def _get(self, path: str, timeout: float | None = None) -> dict[str, Any]:
        try:
            status, data = self._client.request("GET", path, timeout=timeout)
        except DaemonUnreachable as exc:
            raise Offline(str(exc)) from exc
        code = read(bodies.ErrorReply, data)["error"]["code"]
        if status >= 500 or (status == 200 and code):
            raise Offline(f"the daemon answered {path} with an error ({code or status})")
        if status >= 400:
            raise ApiResponseError(status, "error", f"{path}: HTTP {status}")
        return data

    def status(self) -> Status:
        try:
            return Status.parse(self._get("/api/status"))
        except ApiResponseError as exc:
            raise Offline(str(exc)) from exc

    def events(self, after: int, wait: float) -> EventBatch:
        """Long-poll for events after `after`, waiting up to `wait` seconds."""
        if not self.events_supported:
            return EventBatch((), None, False, None)
        path = f"/api/events?after={max(0, after)}&timeout={wait:g}"
        try:
            return EventBatch.parse(self._get(path, timeout=wait + self.timeout))
        except ApiResponseError as exc:
            if exc.status == 404:
                self.events_supported = False
                return EventBatch((), None, False, None)
            raise Offline(str(exc)) from exc

    def _action(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        try:
            if method == "GET":
                return self._client.get(path, timeout=timeout)
            return self._client.post(path, body, timeout=timeout)
        except ForeignServer as exc:
            raise ActionFailed(str(exc)) from exc
        except DaemonUnreachable as exc:
            raise ActionFailed("the daemon is not running") from exc
        except ApiResponseError as exc:
            raise ActionFailed(exc.message) from exc

    def pause(self) -> None:
        self._action("POST", "/api/pause")

    def resume(self) -> None:
        self._action("POST", "/api/resume")

    def check_updates(self) -> bodies.UpdateCheck:
        # Asking GitHub can take a while; the daemon bounds it, we wait a bit longer.
        answer = self._action("GET", "/api/updates/check?refresh=1", timeout=self.timeout + 30)
        return read(bodies.UpdateCheck, answer)

    def update_check(self) -> bodies.UpdateCheck:
        """The daemon's last update check, from its cache (no network): for About."""
        return read(bodies.UpdateCheck, self._action("GET", "/api/updates/check"))

    def apply_update(self, version: str | None = None) -> ApplyProgress:
        """Ask the daemon to install the offered update and restart; ActionFailed with its
        reason when it will not (busy, not an install it can update, nothing to apply, or
        `version`, the one the user was shown, is no longer the one on offer)."""
        # It asks GitHub first (a deliberate act gets fresh news): wait as for a check.
        body = {"version": version} if version else {}
        answer = self._action("POST", "/api/updates/apply", body, timeout=self.timeout + 30)
        return ApplyProgress.parse(answer)

    def apply_progress(self) -> ApplyProgress:
        """What an apply is doing; "idle" when the daemon cannot say (an older daemon)."""
        try:
            return ApplyProgress.parse(self._action("GET", "/api/updates/apply"))
        except ActionFailed:
            return ApplyProgress()

    def dismiss_version(self, version: str) -> None:
        self._action("POST", "/api/updates/dismiss", {"version": version})

    def retry(self, job_id: int) -> bodies.Job:
        return read(bodies.Job, self._action("POST", f"/api/jobs/{int(job_id)}/retry"))

    def job(self, job_id: int) -> bodies.Job:
        return read(bodies.Job, self._action("GET", f"/api/jobs/{int(job_id)}"))

    def cancel(self, job_id: int) -> bodies.Job:
        """Cancel a queued or running job; ActionFailed with the daemon's reason if it
        cannot be (it has ended meanwhile, or the daemon is too old to cancel)."""
        return read(bodies.Job, self._action("POST", f"/api/jobs/{int(job_id)}/cancel"))

    def queue(self, limit: int) -> tuple[Queued, ...]:
        """The next files to be transcribed (the queue view), bounded."""
        answer = self._action("GET", "/api/jobs?state=queued&limit=500")
        return queue_from_jobs(read(bodies.JobList, answer), limit)

    def recent(self, limit: int) -> tuple[Finished, ...]:
        """The newest finished jobs with a transcript (Recent transcripts)."""
        answer = self._action("GET", f"/api/jobs?state=done&limit={limit}")
        return recent_from_jobs(read(bodies.JobList, answer), limit)
