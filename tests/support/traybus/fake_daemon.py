"""A small stand-in daemon: real HTTP/1.1 on a real Unix socket, scripted state.

It serves the API shapes the tray reads (status, long-polled events, pause,
resume, jobs with retry and cancel, update check, dismiss and apply), so the
real tray process can be tested before, and independently of, the real daemon.
An apply is only recorded and answered as scripted (`apply_answer`); applying
for real is the daemon's test.
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

from voxtrald.states import MEMORY_EVENTS, EventType, MemoryLevel


def base_status(folders: dict[str, str]) -> dict[str, Any]:
    return {
        "version": "1.0.0",
        "app_name": "Voxtral Transcription",
        "state": "idle",
        "paused": False,
        "waiting_reason": None,
        "held": [],
        "queue": {"queued": 0, "running": 0, "done": 0, "failed": 0, "duplicate": 0,
                  "cancelled": 0},
        "current_job": None,
        "folders": folders,
        "worker": {"loaded": False, "pid": None},
        "memory": {"level": "normal", "percent": 50.0, "available_gb": 4.0, "message": "ok",
                   "limit": "host"},
        "update": None,
        # Both are set per answer (status()): this daemon's instance and its last event.
        "instance": "",
        "events_last_seq": 0,
    }


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client hanging up mid-reply (the tray stopping) is not a test failure


class FakeDaemon:
    def __init__(self, socket_path: Path, folders: dict[str, str]) -> None:
        self.socket_path = socket_path
        self.status: dict[str, Any] = base_status(folders)
        self.instance = secrets.token_hex(4)
        self.events: list[dict[str, Any]] = []
        self.jobs: list[dict[str, Any]] = []  # what GET /api/jobs lists, newest last
        self.requests: list[tuple[str, str, Any]] = []
        # The answer to POST /api/updates/apply (None: accept it), and what GET reports.
        self.apply_answer: tuple[int, dict[str, Any]] | None = None
        self.apply_state: dict[str, Any] = {"state": "idle", "version": None, "can_apply": True}
        self.cond = threading.Condition()
        self._server: _Server | None = None
        self.start()

    # -- scripting ----------------------------------------------------------------------

    def emit(self, type_: EventType | str, **data: Any) -> None:
        """Log an event as the daemon does (a str for one the daemon never sends)."""
        with self.cond:
            self.events.append(
                {"seq": len(self.events) + 1, "type": str(type_), "time": "t", "data": data}
            )
            self.cond.notify_all()

    def set_memory(
        self, level: str, percent: float, event: bool = True, reminder: bool = False
    ) -> None:
        with self.cond:
            previous = self.status["memory"]["level"]
            self.status["memory"] = {
                "level": level,
                "percent": percent,
                "available_gb": 1.5,
                "message": "Close other applications or pause transcription.",
            }
        if event and (level != previous or reminder):
            self.emit(
                MEMORY_EVENTS[MemoryLevel(level)],
                level=level,
                previous=previous,
                percent=percent,
                available_gb=1.5,
                message="Close other applications.",
                reminder=reminder,
            )

    def set_update(self, version: str, url: str | None, dismissed: bool = False,
                   can_apply: bool = False, event: bool = True) -> None:
        with self.cond:
            self.status["update"] = {
                "update_available": True,
                "current_version": "1.0.0",
                "latest_version": version,
                "release_url": url,
                "dismissed": dismissed,
                "error": None,
                "rolled_back": False,
                "can_apply": can_apply,
            }
        if event:
            self.emit(EventType.UPDATE_AVAILABLE, version=version, release_url=url,
                      release_name=version)

    def refuse_apply(self, code: str, message: str) -> None:
        """The next applies are answered 409 with this reason, as the daemon refuses one."""
        self.apply_answer = (409, {"error": {"code": code, "message": message}})

    def snapshot(self) -> dict[str, Any]:
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

    def route(self, method: str, url: str, body: Any) -> tuple[int, dict[str, Any]]:
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
            return 200, {"paused": paused}
        if method == "GET" and parts.path == "/api/jobs":
            with self.cond:
                jobs = [j for j in reversed(self.jobs)
                        if query.get("state") in (None, j.get("state"))]
            return 200, {"jobs": jobs[: int(query.get("limit", 50))]}
        if parts.path.startswith("/api/jobs/"):
            return self._job_route(method, parts.path)
        if method == "GET" and parts.path == "/api/updates/check":
            upd = self.snapshot()["update"] or {
                "update_available": False,
                "current_version": "1.0.0",
                "error": None,
            }
            return 200, upd
        if parts.path == "/api/updates/apply":
            return self._apply(method)
        if method == "POST" and parts.path == "/api/updates/dismiss":
            with self.cond:
                if self.status["update"]:
                    self.status["update"]["dismissed"] = True
            return 200, {"dismissed": (body or {}).get("version")}
        return 404, {"error": {"code": "not_found", "message": f"no route {parts.path}"}}

    def _apply(self, method: str) -> tuple[int, dict[str, Any]]:
        with self.cond:
            if method == "GET":
                return 200, dict(self.apply_state)
            if self.apply_answer is not None:
                return self.apply_answer
            version = (self.status["update"] or {}).get("latest_version")
            self.apply_state = {"state": "downloading", "version": version, "can_apply": True}
            return 202, {"state": "downloading", "version": version, "error": None,
                         "code": None}

    def _job_route(self, method: str, path: str) -> tuple[int, dict[str, Any]]:
        tail = path.removeprefix("/api/jobs/").split("/")
        with self.cond:
            job = next((j for j in self.jobs if str(j.get("id")) == tail[0]), None)
            if job is None:
                return 404, {"error": {"code": "not_found", "message": "no such job"}}
            if method == "GET" and len(tail) == 1:
                return 200, dict(job)
            if method == "POST" and tail[1:] == ["retry"]:
                job["state"] = "queued"
                return 200, dict(job)
            if method == "POST" and tail[1:] == ["cancel"]:
                return self._cancel(job)
        return 404, {"error": {"code": "not_found", "message": f"no route {path}"}}

    def _cancel(self, job: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """As the daemon cancels (called holding `cond`): a queued one leaves the queue."""
        was = job.get("state")
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
            self.events.append({"seq": len(self.events) + 1, "type": "job_cancelled",
                                "time": "t", "data": {"id": job["id"], "file": job.get("file"),
                                                      "was": was}})
            self.cond.notify_all()
        return 200, dict(job)

    def _events(self, after: int, timeout: float) -> dict[str, Any]:
        with self.cond:
            self.cond.wait_for(lambda: len(self.events) > after, timeout=min(timeout, 30))
            events = self.events[after:] if after <= len(self.events) else list(self.events)
            return {
                "events": events,
                "last_seq": len(self.events),
                "gap": after > len(self.events),
                "instance": self.instance,
            }


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
