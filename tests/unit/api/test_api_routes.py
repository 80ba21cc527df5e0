"""Core routes against a small in-memory DaemonControl, through the real Router."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from tests.support.waiting import returns
from voxtrald.api import core_routes
from voxtrald.api.router import ApiError, Request, Router
from voxtrald.events import EventLog
from voxtrald.jobs.errors import JobNotFound, NotCancellable, NotRetryable
from voxtrald.states import EventType
from voxtrald.version import APP_NAME, current_version


class FakeControl:
    """Just enough daemon for the API: jobs in a dict, a pause flag, a real EventLog."""

    def __init__(self) -> None:
        self.events = EventLog(capacity=50)
        self.paused = False
        self.fail_status = False
        self.problems: list[str] = []
        self.jobs: dict[int, dict[str, Any]] = {}
        for i, state in enumerate(("done", "failed", "queued", "running", "duplicate"), 1):
            self.jobs[i] = {
                "id": i, "file": f"f{i}.wav", "state": state, "attempts": 1, "max_attempts": 3,
                "percent": 50.0 if state == "running" else None, "error":
                "decode error" if state == "failed" else None, "duplicate_of": None,
            }

    def status(self) -> dict[str, Any]:
        if self.fail_status:
            raise RuntimeError("secret internal detail")
        return {
            "version": current_version(), "app_name": APP_NAME,
            "instance": self.events.instance,
            "state": "paused" if self.paused else "idle", "paused": self.paused,
            "waiting_reason": None,
            "queue": {"queued": 1, "running": 1, "done": 1, "failed": 1, "duplicate": 1},
            "current_job": None, "folders": {}, "memory": None, "update": None,
            "events_last_seq": self.events.last_seq,
        }

    def health(self) -> dict[str, Any]:
        return {"ok": not self.problems, "problems": list(self.problems)}

    def list_jobs(self, state: str | None, limit: int) -> list[dict[str, Any]]:
        jobs = [j for j in self.jobs.values() if state is None or j["state"] == state]
        return sorted(jobs, key=lambda j: -j["id"])[:limit]

    def get_job(self, job_id: int) -> dict[str, Any] | None:
        return self.jobs.get(job_id)

    def retry_job(self, job_id: int) -> dict[str, Any]:
        job = self.jobs.get(job_id)
        if job is None:
            raise JobNotFound(job_id)
        if job["state"] not in ("failed", "cancelled"):
            raise NotRetryable(f"job {job_id} is {job['state']}, only failed or cancelled jobs "
                               "can be retried")
        job["state"] = "queued"
        return job

    def cancel_job(self, job_id: int) -> dict[str, Any]:
        job = self.jobs.get(job_id)
        if job is None:
            raise JobNotFound(job_id)
        if job["state"] not in ("queued", "running", "cancelled"):
            raise NotCancellable(f"job {job_id} is {job['state']}; only queued or running "
                                 "jobs can be cancelled")
        if job["state"] != "cancelled":
            self.events.emit(EventType.JOB_CANCELLED, id=job_id, file=job["file"],
                             was=job["state"])
        job["state"] = "cancelled"
        return job

    def pause(self) -> dict[str, Any]:
        self.paused = True
        self.events.emit(EventType.PAUSED)
        return {"paused": True, "state": "paused"}

    def resume(self) -> dict[str, Any]:
        self.paused = False
        self.events.emit(EventType.RESUMED)
        return {"paused": False, "state": "idle"}


@pytest.fixture
def api() -> tuple[Router, FakeControl]:
    router = Router()
    control = FakeControl()
    core_routes.register(router, control)
    return router, control


def call(router: Router, method: str, path: str, query: dict[str, str] | None = None,
         body: bytes = b"") -> tuple[int, dict[str, Any]]:
    try:
        status, payload = router.dispatch(Request(method, path, query or {}, body))
    except ApiError as err:
        status, payload = err.status, err.body()
    json.dumps(payload)  # every answer must be JSON-able
    return status, payload


def test_status_version_health(api: tuple[Router, FakeControl]) -> None:
    router, control = api
    assert call(router, "GET", "/api/status")[1]["state"] == "idle"
    assert call(router, "GET", "/api/version") == (
        200, {"version": current_version(), "app_name": APP_NAME})
    status, health = call(router, "GET", "/api/health")
    assert status == 200 and health["ok"] is True
    assert health["instance"] == control.events.instance
    control.problems = ["job 3 (a.wav) has made no progress for 75 s"]
    status, health = call(router, "GET", "/api/health")
    assert status == 200 and health["ok"] is False
    assert health["problems"] == control.problems


def test_jobs_list_filter_and_limit(api: tuple[Router, FakeControl]) -> None:
    router, _ = api
    status, data = call(router, "GET", "/api/jobs")
    assert status == 200 and [j["id"] for j in data["jobs"]] == [5, 4, 3, 2, 1]
    assert data["count"] == 5
    _, data = call(router, "GET", "/api/jobs", {"state": "failed"})
    assert [j["id"] for j in data["jobs"]] == [2]
    _, data = call(router, "GET", "/api/jobs", {"limit": "2"})
    assert [j["id"] for j in data["jobs"]] == [5, 4]


@pytest.mark.parametrize("query", [
    {"state": "bogus"}, {"limit": "0"}, {"limit": "1001"}, {"limit": "ten"}, {"limit": "-1"},
])
def test_jobs_list_rejects_bad_parameters(api: tuple[Router, FakeControl],
                                          query: dict[str, str]) -> None:
    status, data = call(api[0], "GET", "/api/jobs", query)
    assert status == 400 and data["error"]["code"] == "bad_parameter"


def test_job_by_id(api: tuple[Router, FakeControl]) -> None:
    router, _ = api
    assert call(router, "GET", "/api/jobs/2")[1]["file"] == "f2.wav"
    status, data = call(router, "GET", "/api/jobs/999")
    assert status == 404 and data["error"]["code"] == "job_not_found"
    for bad in ("abc", "-1", "1.5", "9" * 40, "\u00b2", "\u0663"):
        status, data = call(router, "GET", f"/api/jobs/{bad}")
        assert status == 400, bad


def test_retry(api: tuple[Router, FakeControl]) -> None:
    router, control = api
    status, data = call(router, "POST", "/api/jobs/2/retry")
    assert status == 200 and data["state"] == "queued"
    status, data = call(router, "POST", "/api/jobs/1/retry")
    assert status == 409 and data["error"]["code"] == "not_retryable"
    assert "only failed or cancelled jobs" in data["error"]["message"]
    assert call(router, "POST", "/api/jobs/77/retry")[0] == 404
    assert call(router, "GET", "/api/jobs/2/retry")[0] == 405
    status, data = call(router, "POST", "/api/jobs/2/retry", body=b"{nope")
    assert status == 400 and data["error"]["code"] == "invalid_json"


def test_cancel(api: tuple[Router, FakeControl]) -> None:
    router, control = api
    for job_id in (3, 4):  # queued, running
        status, data = call(router, "POST", f"/api/jobs/{job_id}/cancel")
        assert status == 200 and data["state"] == "cancelled" and data["id"] == job_id
    status, data = call(router, "POST", "/api/jobs/3/cancel")  # again: answered as it is
    assert status == 200 and data["state"] == "cancelled"
    kinds = [(e["type"], e["data"]["was"]) for e in control.events.since(0)["events"]]
    assert kinds == [("job_cancelled", "queued"), ("job_cancelled", "running")]
    for job_id, state in ((1, "done"), (2, "failed"), (5, "duplicate")):
        status, data = call(router, "POST", f"/api/jobs/{job_id}/cancel")
        assert status == 409 and data["error"]["code"] == "not_cancellable"
        assert f"is {state}; only queued or running" in data["error"]["message"]
    status, data = call(router, "POST", "/api/jobs/77/cancel")
    assert status == 404 and data["error"]["code"] == "job_not_found"
    assert call(router, "POST", "/api/jobs/abc/cancel")[0] == 400
    assert call(router, "GET", "/api/jobs/3/cancel")[0] == 405
    status, data = call(router, "POST", "/api/jobs/3/cancel", body=b"{nope")
    assert status == 400 and data["error"]["code"] == "invalid_json"


def test_a_bug_inside_retry_is_not_reported_as_an_unknown_job(
        api: tuple[Router, FakeControl], monkeypatch: pytest.MonkeyPatch) -> None:
    """Only JobNotFound is a 404: a KeyError from a bug reaches the server's 500 path."""
    router, control = api

    def broken(job_id: int) -> dict[str, Any]:
        raise KeyError("state")

    monkeypatch.setattr(control, "retry_job", broken)
    with pytest.raises(KeyError):
        call(router, "POST", "/api/jobs/2/retry")


def test_pause_resume_emit_events(api: tuple[Router, FakeControl]) -> None:
    router, control = api
    assert call(router, "POST", "/api/pause")[1]["paused"] is True
    assert call(router, "GET", "/api/status")[1]["state"] == "paused"
    assert call(router, "POST", "/api/resume")[1]["paused"] is False
    _, data = call(router, "GET", "/api/events", {"after": "0"})
    assert [e["type"] for e in data["events"]] == ["paused", "resumed"]
    assert call(router, "GET", "/api/pause")[0] == 405
    assert call(router, "POST", "/api/pause", body=b"[1, 2")[0] == 400


def test_events_long_poll_wakes_on_emit(api: tuple[Router, FakeControl]) -> None:
    router, control = api
    last = control.events.last_seq
    def started_job() -> None:
        control.events.emit(EventType.JOB_STARTED, id=1, file="a.wav")

    threading.Timer(0.2, started_job).start()
    # The longest long-poll (60 s): an answer within the 30 s guard is the wake-up.
    _, data = returns(lambda: call(router, "GET", "/api/events",
                                   {"after": str(last), "timeout": "60"}),
                      what="the long-poll to wake on the event")
    assert [e["type"] for e in data["events"]] == ["job_started"]
    assert data["events"][0]["data"] == {"id": 1, "file": "a.wav"}


def test_events_timeout_returns_empty(api: tuple[Router, FakeControl]) -> None:
    router, control = api
    control.events.emit(EventType.PAUSED)
    _, data = call(router, "GET", "/api/events", {"after": "1", "timeout": "0.2"})
    assert data["events"] == [] and data["last_seq"] == 1 and data["gap"] is False


def test_events_gap_when_behind_the_ring(api: tuple[Router, FakeControl]) -> None:
    router, control = api
    for _ in range(60):  # capacity is 50
        control.events.emit(EventType.JOB_DONE)
    _, data = call(router, "GET", "/api/events", {"after": "1"})
    assert data["gap"] is True and len(data["events"]) == 50


@pytest.mark.parametrize("query", [
    {"timeout": "x"}, {"timeout": "-1"}, {"timeout": "nan"}, {"timeout": "inf"},
    {"after": "-5"}, {"after": "z"},
])
def test_events_bad_parameters(api: tuple[Router, FakeControl], query: dict[str, str]) -> None:
    assert call(api[0], "GET", "/api/events", query)[0] == 400


def test_events_timeout_is_capped(api: tuple[Router, FakeControl]) -> None:
    assert core_routes._events_timeout(Request("GET", "/", {"timeout": "3600"})) == 60.0


def test_unknown_route_404_and_room_for_other_features(api: tuple[Router, FakeControl]) -> None:
    router, _ = api
    status, data = call(router, "GET", "/api/system/memory")
    assert status == 404 and data["error"]["code"] == "not_found"
    router.add("GET", "/api/system/memory", lambda req: {"system": {}})
    assert call(router, "GET", "/api/system/memory") == (200, {"system": {}})


def test_events_long_poll_ends_when_the_client_is_gone(api: tuple[Router, FakeControl]) -> None:
    router, _ = api
    gone = threading.Event()
    threading.Timer(0.3, gone.set).start()
    req = Request("GET", "/api/events", {"after": "0", "timeout": "60"},
                  client_gone=gone.is_set)
    status, data = returns(lambda: router.dispatch(req), what="the long-poll to end early")
    assert status == 200 and data["events"] == []


def test_a_deeply_nested_body_is_a_client_error_not_a_crash(
    api: tuple[Router, FakeControl],
) -> None:
    router, _ = api
    body = b"[" * 60_000 + b"]" * 60_000
    status, payload = call(router, "POST", "/api/pause", body=body)
    assert status == 400 and payload["error"]["code"] == "invalid_json"
