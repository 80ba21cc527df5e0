"""A small stand-in daemon: real HTTP/1.1 on a real Unix socket, scripted state.

It serves the API shapes the tray reads (status, long-polled events, pause,
resume, jobs with retry and cancel, update check, dismiss and apply), so the
real tray process can be tested before, and independently of, the real daemon.
An apply is only recorded and answered as scripted (`apply_answer`); applying
for real is the daemon's test.

Its answers are the daemon's declared bodies (voxtrald.bodies), built with the
helpers below; an answer that differs from its declaration (a test scripting a key
the daemon never sends, or leaving one out) is refused with a 500 and kept in
`errors`, which the `fake` fixture checks at the end of the test.
"""

from __future__ import annotations

import copy
import json
import secrets
import socketserver
import threading
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.support.bodies_shape import mismatches
from voxtrald import bodies
from voxtrald.states import MEMORY_EVENTS, EventType, JobState, MemoryLevel

VERSION = "1.0.0"


def base_status(folders: dict[str, str]) -> bodies.Status:
    return bodies.Status(
        version=VERSION,
        app_name="Voxtral Transcription",
        state="idle",
        paused=False,
        waiting_reason=None,
        held=[],
        queue={str(s): 0 for s in JobState},
        current_job=None,
        folders=bodies.Folders(inbox=folders.get("inbox", ""),
                               transcripts=folders.get("transcripts", ""),
                               processed=folders.get("processed", ""),
                               failed=folders.get("failed", "")),
        worker=bodies.WorkerInfo(loaded=False, pid=None),
        memory=memory_summary("normal", 50.0, available_gb=4.0, message="ok"),
        update=None,
        # Both are set per answer (status()): this daemon's instance and its last event.
        instance="",
        events_last_seq=0,
    )


def memory_summary(level: str, percent: float | None, available_gb: float | None = 1.5,
                   message: str = "Close other applications or pause transcription."
                   ) -> bodies.MemorySummary:
    return bodies.MemorySummary(level=level, percent=percent, available_gb=available_gb,
                                message=message, limit="host")


def current_job(id_: int, file: str, percent: float = 0.0,
                eta_seconds: float | None = None) -> bodies.CurrentJob:
    return bodies.CurrentJob(id=id_, file=file, percent=percent, eta_seconds=eta_seconds,
                             started_at="2026-01-01T00:00:00Z", attempt=1)


def update_summary(version: str | None, url: str | None, *, available: bool = True,
                   dismissed: bool = False, can_apply: bool = False,
                   error: str | None = None) -> bodies.UpdateSummary:
    return bodies.UpdateSummary(update_available=available, current_version=VERSION,
                                latest_version=version, release_url=url, dismissed=dismissed,
                                error=error, rolled_back=False, can_apply=can_apply)


def job(id_: int, state: str, file: str, **fields: Any) -> bodies.Job:
    """A job record as GET /api/jobs lists it; `fields` sets any other declared key."""
    record = bodies.Job(
        id=id_, source_path=f"/inbox/{file}", file=file, sha256=None, size=None, state=state,
        attempts=0 if state == "queued" else 1, max_attempts=3, created_at=None,
        started_at=None, finished_at=None, next_attempt_at=None, duration=None,
        wall_seconds=None, percent=100.0 if state == "done" else 0.0, eta_seconds=None,
        error=None, duplicate_of=None, outputs=[], language=None, language_probability=None,
        warnings=[])
    unknown = set(fields) - set(record)
    if unknown:
        raise TypeError(f"a job has no {sorted(unknown)}")
    record.update(fields)  # type: ignore[typeddict-item]
    return record


def apply_status(state: str = "idle", version: str | None = None) -> bodies.ApplyStatus:
    return bodies.ApplyStatus(state=state, version=version, error=None, code=None,
                              install="side-by-side", root="/opt/voxtral", can_apply=True,
                              how_to_update=None, versions=[VERSION])


def _check(status: bodies.UpdateSummary | None, checked_at: str) -> bodies.UpdateCheck:
    upd = status or update_summary(None, None, available=False)
    return bodies.UpdateCheck(
        update_available=upd["update_available"], current_version=upd["current_version"],
        latest_version=upd["latest_version"], release_name=upd["latest_version"],
        release_notes=None, release_url=upd["release_url"], download_url=None,
        published_at=None, prerelease=False, dismissed=upd["dismissed"], error=upd["error"],
        checked_at=checked_at, channel="stable", rolled_back=upd["rolled_back"],
        rolled_back_reason=None, can_apply=upd["can_apply"])


# What each route answers with (a job's routes: bodies.Job).
ANSWERS: dict[tuple[str, str], Any] = {
    ("GET", "/api/status"): bodies.Status,
    ("POST", "/api/pause"): bodies.Status,
    ("POST", "/api/resume"): bodies.Status,
    ("GET", "/api/events"): bodies.EventsPage,
    ("GET", "/api/jobs"): bodies.JobList,
    ("GET", "/api/updates/check"): bodies.UpdateCheck,
    ("POST", "/api/updates/dismiss"): bodies.UpdateCheck,
    ("GET", "/api/updates/apply"): bodies.ApplyStatus,
    ("POST", "/api/updates/apply"): bodies.ApplyState,
}


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client hanging up mid-reply (the tray stopping) is not a test failure


class FakeDaemon:
    def __init__(self, socket_path: Path, folders: dict[str, str]) -> None:
        self.socket_path = socket_path
        self.status = base_status(folders)
        self.instance = secrets.token_hex(4)
        self.events: list[bodies.Event] = []
        self.jobs: list[bodies.Job] = []  # what GET /api/jobs lists, newest last
        self.requests: list[tuple[str, str, Any]] = []
        # Answers that were not the declared body: a test scripted what no daemon sends.
        self.errors: list[str] = []
        # The answer to POST /api/updates/apply (None: accept it), and what GET reports.
        self.apply_answer: tuple[int, dict[str, Any]] | None = None
        self.apply_state = apply_status()
        self.checked_at = "2026-01-01T00:00:00Z"  # when GET /api/updates/check says it asked
        self.cond = threading.Condition()
        self._server: _Server | None = None
        self.start()

    # -- scripting ----------------------------------------------------------------------

    def emit(self, type_: EventType | str, **data: Any) -> None:
        """Log an event as the daemon does (a str for one the daemon never sends)."""
        with self.cond:
            self.events.append(bodies.Event(seq=len(self.events) + 1, type=str(type_),
                                            time="2026-01-01T00:00:00Z", data=data))
            self.cond.notify_all()

    def set_memory(
        self, level: str, percent: float, event: bool = True, reminder: bool = False
    ) -> None:
        with self.cond:
            previous = self.status["memory"]["level"] if self.status["memory"] else "normal"
            self.status["memory"] = memory_summary(level, percent)
        if event and (level != previous or reminder):
            self.emit(
                MEMORY_EVENTS[MemoryLevel(level)],
                **bodies.MemoryEvent(
                    level=level, previous=previous, percent=percent, available_gb=1.5,
                    total_gb=16.0, limit="host", worker_rss_mb=None,
                    message="Close other applications.", reminder=reminder,
                    top_processes=[]),
            )

    def set_update(self, version: str, url: str | None, dismissed: bool = False,
                   can_apply: bool = False, event: bool = True) -> None:
        with self.cond:
            self.status["update"] = update_summary(version, url, dismissed=dismissed,
                                                   can_apply=can_apply)
        if event:
            self.emit(EventType.UPDATE_AVAILABLE, version=version, release_url=url,
                      release_name=version)

    def refuse_apply(self, code: str, message: str) -> None:
        """The next applies are answered 409 with this reason, as the daemon refuses one."""
        self.apply_answer = (409, {"error": {"code": code, "message": message}})

    def snapshot(self) -> bodies.Status:
        with self.cond:
            data = copy.deepcopy(self.status)
            data["instance"] = self.instance
            data["events_last_seq"] = len(self.events)
            return data

    def count(self, method: str, path: str) -> int:
        return sum(1 for m, p, _ in list(self.requests) if m == method and p == path)

    # -- life cycle ------------------------------------------------------------------------

    def start(self) -> None:
        self.socket_path.unlink(missing_ok=True)
        self._server = _Server(str(self.socket_path), _handler(self))
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self.socket_path.unlink(missing_ok=True)

    def restart(self, *told: tuple[str, dict[str, Any]]) -> None:
        """A new daemon: new instance id, event numbering from scratch, same state.

        `told`: events it emits before anyone can ask, as a daemon put back after a
        failed update announces the rollback as it starts."""
        self.stop()
        with self.cond:
            self.instance = secrets.token_hex(4)
            self.events = []
        for type_, data in told:
            self.emit(type_, **data)
        self.start()

    # -- routes --------------------------------------------------------------------------

    def route(self, method: str, url: str, body: Any) -> tuple[int, Any]:
        """The answer to one request, checked against the body the daemon declares."""
        path = urlsplit(url).path
        status, data = self._route(method, url, body)
        kind = bodies.Job if path.startswith("/api/jobs/") else ANSWERS.get((method, path))
        if status < 400 and kind is not None and (wrong := mismatches(kind, data, path)):
            with self.cond:
                self.errors += wrong
            return 500, {"error": {"code": "not_as_declared", "message": "; ".join(wrong)}}
        return status, data

    def _route(self, method: str, url: str, body: Any) -> tuple[int, Any]:
        parts = urlsplit(url)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        self.requests.append((method, parts.path, body))
        if method == "GET" and parts.path == "/api/status":
            return 200, self.snapshot()
        if method == "GET" and parts.path == "/api/events":
            return 200, self._events(int(query.get("after", 0)), float(query.get("timeout", 0)))
        if method == "POST" and parts.path in ("/api/pause", "/api/resume"):
            paused = parts.path.endswith("pause")
            with self.cond:
                self.status["paused"] = paused
                self.status["state"] = "paused" if paused else "idle"
            self.emit(EventType.PAUSED if paused else EventType.RESUMED)
            return 200, self.snapshot()
        if method == "GET" and parts.path == "/api/jobs":
            with self.cond:
                jobs = [j for j in reversed(self.jobs)
                        if query.get("state") in (None, j["state"])]
            listed = jobs[: int(query.get("limit", 50))]
            return 200, bodies.JobList(jobs=listed, count=len(listed))
        if parts.path.startswith("/api/jobs/"):
            return self._job_route(method, parts.path)
        if method == "GET" and parts.path == "/api/updates/check":
            return 200, _check(self.snapshot()["update"], self.checked_at)
        if parts.path == "/api/updates/apply":
            return self._apply(method)
        if method == "POST" and parts.path == "/api/updates/dismiss":
            with self.cond:
                if self.status["update"]:
                    self.status["update"]["dismissed"] = True
            return 200, _check(self.snapshot()["update"], self.checked_at)
        return 404, {"error": {"code": "not_found", "message": f"no route {parts.path}"}}

    def _apply(self, method: str) -> tuple[int, Any]:
        with self.cond:
            if method == "GET":
                return 200, copy.deepcopy(self.apply_state)
            if self.apply_answer is not None:
                return self.apply_answer
            update = self.status["update"]
            version = update["latest_version"] if update else None
            self.apply_state = apply_status("downloading", version)
            return 202, bodies.ApplyState(state="downloading", version=version, error=None,
                                          code=None)

    def _job_route(self, method: str, path: str) -> tuple[int, Any]:
        tail = path.removeprefix("/api/jobs/").split("/")
        with self.cond:
            found = next((j for j in self.jobs if str(j["id"]) == tail[0]), None)
            if found is None:
                return 404, {"error": {"code": "not_found", "message": "no such job"}}
            if method == "GET" and len(tail) == 1:
                return 200, copy.deepcopy(found)
            if method == "POST" and tail[1:] == ["retry"]:
                found["state"] = "queued"
                return 200, copy.deepcopy(found)
            if method == "POST" and tail[1:] == ["cancel"]:
                return self._cancel(found)
        return 404, {"error": {"code": "not_found", "message": f"no route {path}"}}

    def _cancel(self, job: bodies.Job) -> tuple[int, Any]:
        """As the daemon cancels (called holding `cond`): a queued one leaves the queue."""
        was = job["state"]
        if was not in ("queued", "running", "cancelled"):
            return 409, {"error": {"code": "not_cancellable", "message":
                                   f"job {job['id']} is {was}; only queued or running jobs "
                                   "can be cancelled"}}
        if was != "cancelled":
            job["state"] = "cancelled"
            counts = self.status["queue"]
            counts[str(was)] = max(0, counts.get(str(was), 0) - 1)
            counts["cancelled"] = counts.get("cancelled", 0) + 1
            if was == "running":
                self.status["current_job"] = None
                self.status["state"] = "paused" if self.status["paused"] else "idle"
            self.events.append(bodies.Event(seq=len(self.events) + 1, type="job_cancelled",
                                            time="2026-01-01T00:00:00Z",
                                            data={"id": job["id"], "file": job["file"],
                                                  "was": was}))
            self.cond.notify_all()
        return 200, copy.deepcopy(job)

    def _events(self, after: int, timeout: float) -> bodies.EventsPage:
        with self.cond:
            self.cond.wait_for(lambda: len(self.events) > after, timeout=min(timeout, 30))
            events = self.events[after:] if after <= len(self.events) else list(self.events)
            return bodies.EventsPage(events=events, last_seq=len(self.events),
                                     gap=after > len(self.events), instance=self.instance)


def _handler(fake: FakeDaemon) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw.strip() else None
            status, data = fake.route(method, self.path, body)
            payload = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def address_string(self) -> str:
            return "unix"

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
