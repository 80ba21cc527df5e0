"""The daemon, the tray and the desktop tests' stand-in daemon speak the same bodies.

Every JSON body is declared once (`voxtrald.bodies`). The daemon builds them (the type
checker holds it to the keys), clients read them back with `voxtrald.client.read` (one
tolerant reader, driven by the declarations), and the tray's end-to-end tests talk to a
stand-in daemon (`tests/support/traybus/fake_daemon.py`). Here, with the daemon's real
routes on real parts (a job store, the memory sampler on a fake /proc, the update
checker against a local stand-in for GitHub):

- every body the daemon answers with has exactly the declared keys and types, at every
  depth, and reading it gives it back unchanged: the tray parses exactly what the
  daemon returns;
- the stand-in answers every route the tray calls with the same declared bodies;
- a body from an older or a newer daemon (a key missing, one extra, one of another
  type) still reads as a whole body;
- the tray reads no answer by hand (no `.get("key")` on the JSON).
"""

from __future__ import annotations

import ast
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.bodies_shape import keys_of, mismatches
from tests.support.fake_worker import chunked
from tests.support.job_rig import Rig
from tests.support.memory_procfs import procfs  # noqa: F401 - fixture
from tests.support.traybus.fake_daemon import ANSWERS, FakeDaemon, current_job, job
from tests.support.update_server import PAYLOAD, PAYLOAD_SHA, WHEEL, Harness, asset, h  # noqa: F401
from tray.model import EventBatch, Status, queue_from_jobs, recent_from_jobs
from voxtrald import bodies
from voxtrald.api import core_routes
from voxtrald.api.control import Control
from voxtrald.api.router import Request, Router
from voxtrald.client.read import read
from voxtrald.config import MemoryConfig
from voxtrald.install.apply import Applier
from voxtrald.memory.routes import register_routes as memory_routes
from voxtrald.memory.sampler import MemoryMonitor
from voxtrald.states import JobState
from voxtrald.updates.routes import register_routes as update_routes
from voxtrald.worker import protocol as wp

TRAY = Path(__file__).resolve().parents[3] / "tray"

# Every route whose body is declared, as the daemon answers it (the tray reads the first
# nine; the CLI and the update supervisor the rest).
DAEMON_ROUTES: list[tuple[str, str, dict[str, str], Any]] = [
    ("GET", "/api/status", {}, bodies.Status),
    ("GET", "/api/events", {"after": "0"}, bodies.EventsPage),
    ("GET", "/api/jobs", {}, bodies.JobList),
    ("GET", "/api/jobs/1", {}, bodies.Job),
    ("GET", "/api/updates/check", {}, bodies.UpdateCheck),
    ("GET", "/api/updates/apply", {}, bodies.ApplyStatus),
    ("POST", "/api/updates/dismiss", {}, bodies.UpdateCheck),
    ("POST", "/api/pause", {}, bodies.Status),
    ("POST", "/api/resume", {}, bodies.Status),
    ("GET", "/api/health", {}, bodies.HealthReport),
    ("GET", "/api/version", {}, bodies.VersionInfo),
    ("GET", "/api/system/memory", {"top": "1"}, bodies.MemoryReport),
    ("POST", "/api/updates/download", {}, bodies.Download),
]


def script(req: wp.Transcribe) -> list[wp.Reply | None]:
    return chunked(req.job_id, ["hello there"], first=req.first_chunk)


@pytest.fixture
def daemon(tmp_path: Path, procfs: Path, h: Harness) -> Iterator[Callable[..., Any]]:  # noqa: F811
    """The daemon's routes on real parts: one job done, one running, a release on offer."""
    (tmp_path / "daemon").mkdir()
    rig = Rig(tmp_path / "daemon", script)
    monitor = MemoryMonitor(MemoryConfig(), rig.events, lambda: None)
    h.publish([asset(WHEEL, h.url(f"/dl/{WHEEL}"), len(PAYLOAD), f"sha256:{PAYLOAD_SHA}")])
    h.host(f"/dl/{WHEEL}")
    checker = h.checker()
    try:
        rig.drop("a.wav")
        assert rig.run_next().state == JobState.DONE
        rig.current.begin(rig.drop("b.wav", b"other bytes"))
        rig.current.update(25.0, 30.0)
        monitor.sample_once()
        checker.check(refresh=True)
        control = Control(rig.cfg, rig.store, rig.scheduler, rig.current, rig.events,
                          lambda: bodies.WorkerInfo(loaded=True, pid=4242), monitor.summary,
                          checker.summary, list)
        router = Router()
        core_routes.register(router, control)
        memory_routes(router, monitor)
        update_routes(router, checker, Applier(rig.cfg, checker, rig.events, lambda: None))

        def answer(method: str, path: str, query: dict[str, str]) -> Any:
            body = json.dumps({"version": "1.1.0"}).encode() if "dismiss" in path else b""
            status, data = router.dispatch(Request(method, path, query, body))
            assert status < 300, (path, data)
            return json.loads(json.dumps(data))  # as on the wire

        yield answer
    finally:
        rig.close()


def test_every_body_the_daemon_answers_with_is_as_declared(daemon: Callable[..., Any]) -> None:
    wrong = {path: m for method, path, query, kind in DAEMON_ROUTES
             if (m := mismatches(kind, daemon(method, path, query), path))}
    assert wrong == {}


def test_the_tray_reads_exactly_what_the_daemon_returns(daemon: Callable[..., Any]) -> None:
    for method, path, query, kind in DAEMON_ROUTES:
        body = daemon(method, path, query)
        assert read(kind, body) == body, path
    status = Status.from_body(read(bodies.Status, daemon("GET", "/api/status", {})))
    assert (status.state, status.queued, status.done) == ("transcribing", 1, 1)
    assert status.job is not None and (status.job.file, status.job.percent) == ("b.wav", 25.0)
    assert status.memory is not None and status.memory.percent == 50.0
    assert status.update is not None and status.update.latest_version == "1.1.0"
    assert status.instance and status.events_last_seq
    batch = EventBatch.from_body(read(bodies.EventsPage, daemon("GET", "/api/events", {})))
    assert [e.type for e in batch.events][:2] == ["job_started", "job_done"]
    jobs = read(bodies.JobList, daemon("GET", "/api/jobs", {}))
    assert [f.file for f in recent_from_jobs(jobs, 5)] == ["a.wav"]
    # The store's state until the worker starts.
    assert [q.file for q in queue_from_jobs(jobs, 5)] == ["b.wav"]


def scripted_fake(tmp_path: Path) -> FakeDaemon:
    fake = FakeDaemon(tmp_path / "fake.sock", {"inbox": "/i", "transcripts": "/t",
                                                 "processed": "/p", "failed": "/f"})
    fake.set_memory("warning", 85.0)
    fake.set_update("1.1.0", "https://example.org/r", can_apply=True)
    fake.status["current_job"] = current_job(3, "b.wav", 40.0, 12)
    # Job 1 is queued: the routes are called with id 1, and only a queued job can be cancelled.
    fake.jobs = [job(2, "done", "a.wav", outputs=["/t/a.txt"]), job(1, "queued", "c.wav")]
    fake.emit("job_done", id=2, file="a.wav", outputs=["/t/a.txt"])
    return fake


def tray_calls() -> set[tuple[str, str]]:
    """(method, path) of every call tray/client.py makes, read off its source."""
    calls: set[tuple[str, str]] = set()
    tree = ast.parse((TRAY / "client.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("_get", "_action")):
            continue
        args = node.args if node.func.attr == "_action" else [ast.Constant("GET"), *node.args]
        method, target = args[0], args[1]
        if isinstance(target, ast.JoinedStr):  # f"/api/jobs/{id}/retry": the route's shape
            target = ast.Constant("".join(v.value if isinstance(v, ast.Constant) else "1"
                                          for v in target.values))
        if isinstance(method, ast.Constant) and isinstance(target, ast.Constant):
            calls.add((method.value, str(target.value).split("?")[0]))
    return calls


def test_the_stand_in_serves_every_call_of_the_tray_with_the_declared_body(
        tmp_path: Path) -> None:
    calls = tray_calls()
    assert ("GET", "/api/status") in calls and len(calls) >= 9, calls
    fake = scripted_fake(tmp_path)
    try:
        for method, path in sorted(calls):
            kind = bodies.Job if path.startswith("/api/jobs/") else ANSWERS.get((method, path))
            assert kind is not None, f"the stand-in does not declare {method} {path}"
            body = {"version": "1.1.0"} if path.endswith("dismiss") else None
            status, data = fake.route(method, path + "?after=0", body)
            assert status < 300, (path, data)
            assert mismatches(kind, data, path) == []
            assert read(kind, data) == data
    finally:
        fake.stop()
    assert fake.errors == []


def test_the_stand_in_refuses_a_body_no_daemon_sends(tmp_path: Path) -> None:
    fake = scripted_fake(tmp_path)
    try:
        fake.status["current_job"] = {"id": 7, "file": "x.wav"}  # type: ignore[typeddict-item]
        status, data = fake.route("GET", "/api/status", None)
    finally:
        fake.stop()
    assert status == 500 and "lacks 'percent'" in data["error"]["message"]
    assert fake.errors


READ_BY_CLIENTS = sorted({kind for *_, kind in DAEMON_ROUTES}
                         | {bodies.ApplyState, bodies.ErrorReply}, key=lambda k: k.__name__)


@pytest.mark.parametrize("kind", READ_BY_CLIENTS, ids=lambda k: k.__name__)
def test_a_body_from_another_daemon_still_reads_whole(kind: Any) -> None:
    full = read(kind, {})
    assert mismatches(kind, full) == []  # every declared key, with a neutral value
    assert read(kind, {**full, "from_a_newer_daemon": {"a": 1}}) == full
    assert mismatches(kind, read(kind, "not even an object")) == []
    wrong = {key: "a string" if isinstance(value, bool) else True for key, value in full.items()}
    assert read(kind, wrong) == read(kind, {})  # every value of another type: neutral


def test_reading_keeps_what_fits_and_neutralises_the_rest() -> None:
    body = read(bodies.Status, {"state": 42, "paused": "yes", "queue": {"queued": 3, "x": "y"},
                                "current_job": {"id": 7.0, "percent": 5, "eta_seconds": True},
                                "memory": None, "events_last_seq": 12})
    assert (body["state"], body["paused"], body["queue"]) == ("", False, {"queued": 3})
    assert body["current_job"] is not None
    assert (body["current_job"]["id"], body["current_job"]["percent"]) == (7, 5.0)
    assert body["current_job"]["eta_seconds"] is None and body["memory"] is None
    assert body["events_last_seq"] == 12 and body["folders"]["inbox"] == ""
    page = read(bodies.EventsPage, {"events": [None, 3, {"seq": 2, "type": "paused"}]})
    assert [(e["seq"], e["type"], e["data"]) for e in page["events"]] == [(2, "paused", {})]
    assert set(read(bodies.Download, {"staged": False})) == {"staged", "error", "code"}


def test_the_tray_reads_no_answer_by_hand() -> None:
    """Answers go through voxtrald.client.read; only a job_done event's free-form data
    (Finished.parse) is looked at key by key, and the tray's own map of folders."""
    found = []
    for name in ("client.py", "controller.py", "requests.py", "model.py", "actions.py"):
        tree = ast.parse((TRAY / name).read_text(encoding="utf-8"))
        allowed = {id(n) for c in ast.walk(tree) if isinstance(c, ast.ClassDef)
                   and c.name == "Finished" for f in c.body
                   if isinstance(f, ast.FunctionDef) and f.name == "parse" for n in ast.walk(f)}
        for node in ast.walk(tree):
            if id(node) in allowed or not isinstance(node, ast.Call):
                continue
            func = node.func
            if (isinstance(func, ast.Attribute) and func.attr == "get" and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)
                    and "folders" not in ast.unparse(func.value)):  # the tray's own map
                found.append(f"{name}:{node.lineno} .get({node.args[0].value!r})")
            if (isinstance(func, ast.Name) and func.id == "isinstance" and len(node.args) == 2
                    and isinstance(node.args[1], ast.Name) and node.args[1].id == "dict"):
                found.append(f"{name}:{node.lineno} isinstance(..., dict)")
    assert found == []


def test_the_declared_keys_are_what_the_stand_in_starts_with(tmp_path: Path) -> None:
    fake = FakeDaemon(tmp_path / "s.sock", {"inbox": "/i"})
    try:
        snapshot = fake.snapshot()
    finally:
        fake.stop()
    # `team` only when the daemon shares a team queue.
    assert set(snapshot) == keys_of(bodies.Status) - bodies.Status.__optional_keys__
    assert set(snapshot["queue"]) == {str(s) for s in JobState}
