"""The core routes: status, version, health, the job queue, pause/resume, events.

Handlers only translate between HTTP and the daemon's DaemonControl, so the
same routes are tested against a small fake in unit tests and the real daemon
end to end; the memory and update features add their routes to the same
Router from their own modules (/api/system/memory, /api/updates/...).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Protocol

from voxtrald import bodies
from voxtrald.api.router import ApiError, Request, Router
from voxtrald.events import EventLog
from voxtrald.jobs.errors import JobNotFound, NotCancellable, NotRetryable
from voxtrald.states import JOB_STATE_NAMES
from voxtrald.version import APP_NAME, current_version

MAX_LIST_LIMIT = 1000
DEFAULT_LIST_LIMIT = 100
# Long-polls hold a connection slot; a minute bounds that and stays under proxies' idles.
MAX_EVENTS_TIMEOUT = 60.0


class DaemonControl(Protocol):
    """What the daemon exposes to the API; everything else stays private to it."""

    events: EventLog

    def status(self) -> bodies.Status: ...

    def health(self) -> bodies.Health:
        """{"ok": bool, "problems": [str, ...]}: what is wrong, in the user's words."""
        ...

    def list_jobs(self, state: str | None, limit: int) -> list[bodies.Job]: ...

    def get_job(self, job_id: int) -> bodies.Job | None: ...

    def retry_job(self, job_id: int) -> bodies.Job:
        """Requeue a job; JobNotFound when unknown, NotRetryable (message) when not retryable."""
        ...

    def cancel_job(self, job_id: int) -> bodies.Job:
        """Cancel a queued or running job; JobNotFound when unknown, NotCancellable (message)
        when it has ended already."""
        ...

    def pause(self) -> bodies.Status: ...

    def resume(self) -> bodies.Status: ...


def _job_id(request: Request) -> int:
    raw = request.params.get("id", "")
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        raise ApiError(400, "bad_parameter", f"job id must be a positive integer, not {raw!r}")
    return int(raw)


def _events_timeout(request: Request) -> float:
    raw = request.query.get("timeout")
    if raw is None or raw == "":
        return 0.0
    try:
        value = float(raw)
    except ValueError as exc:
        raise ApiError(400, "bad_parameter", "'timeout' must be a number of seconds") from exc
    if not math.isfinite(value) or value < 0:
        raise ApiError(400, "bad_parameter", "'timeout' must be a number of seconds >= 0")
    return min(value, MAX_EVENTS_TIMEOUT)


def register(router: Router, control: DaemonControl) -> None:
    started = time.monotonic()

    def status(_req: Request) -> bodies.Status:
        return control.status()

    def version(_req: Request) -> bodies.VersionInfo:
        return bodies.VersionInfo(version=current_version(), app_name=APP_NAME)

    def health(_req: Request) -> bodies.HealthReport:
        return bodies.HealthReport(
            **control.health(),
            version=current_version(),
            instance=control.events.instance,
            uptime_seconds=round(time.monotonic() - started, 1),
        )

    def list_jobs(req: Request) -> bodies.JobList:
        state = req.query.get("state") or None
        if state is not None and state not in JOB_STATE_NAMES:
            raise ApiError(
                400, "bad_parameter", f"'state' must be one of {', '.join(JOB_STATE_NAMES)}"
            )
        limit = req.int_query("limit", DEFAULT_LIST_LIMIT, 1, MAX_LIST_LIMIT)
        jobs = control.list_jobs(state, limit)
        return bodies.JobList(jobs=jobs, count=len(jobs))

    def get_job(req: Request) -> bodies.Job:
        job_id = _job_id(req)
        job = control.get_job(job_id)
        if job is None:
            raise ApiError(404, "job_not_found", f"no job with id {job_id}")
        return job

    def job_action(req: Request, act: Callable[[int], bodies.Job],
                   refused: type[Exception], code: str, what: str) -> bodies.Job:
        """POST /api/jobs/{id}/VERB: 404 for an unknown job, 409 `code` when it may not."""
        job_id = _job_id(req)
        req.json()  # a body is optional, but a broken one is still a client error
        try:
            return act(job_id)
        except JobNotFound as exc:
            raise ApiError(404, "job_not_found", str(exc)) from exc
        except refused as exc:
            raise ApiError(409, code, str(exc) or what) from exc

    def retry_job(req: Request) -> bodies.Job:
        return job_action(req, control.retry_job, NotRetryable, "not_retryable",
                          "job cannot be retried")

    def cancel_job(req: Request) -> bodies.Job:
        return job_action(req, control.cancel_job, NotCancellable, "not_cancellable",
                          "job cannot be cancelled")

    def pause(req: Request) -> bodies.Status:
        req.json()
        return control.pause()

    def resume(req: Request) -> bodies.Status:
        req.json()
        return control.resume()

    def events(req: Request) -> bodies.EventsPage:
        after = req.int_query("after", 0, 0, 2**62)
        return control.events.since(after, _events_timeout(req), cancelled=req.client_gone)

    router.add("GET", "/api/status", status)
    router.add("GET", "/api/version", version)
    router.add("GET", "/api/health", health)
    router.add("GET", "/api/jobs", list_jobs)
    router.add("GET", "/api/jobs/{id}", get_job)
    router.add("POST", "/api/jobs/{id}/retry", retry_job)
    router.add("POST", "/api/jobs/{id}/cancel", cancel_job)
    router.add("POST", "/api/pause", pause)
    router.add("POST", "/api/resume", resume)
    router.add("GET", "/api/events", events)
