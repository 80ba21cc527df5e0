"""The queue's loop on its own thread: pause, holds, idle unload, surviving faults."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.fake_worker import chunked
from tests.support.job_rig import Rig
from tests.support.waiting import wait_for
from voxtrald.states import MemoryLevel
from voxtrald.worker import protocol as wp


def until(predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
    """wait_for, polled often: these waits are on threads in this process."""
    return wait_for(predicate, timeout, "the scheduler", interval=0.02)


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    r = Rig(tmp_path, lambda req: chunked(req.job_id, ["words"]),
            **{"jobs.retry_backoff_seconds": 0, "engine.idle_unload_seconds": 3600})
    yield r
    r.close()


def state(rig: Rig, job_id: int) -> str:
    return str(rig.job(job_id).state)


def test_paused_queue_takes_nothing_until_resumed_and_remembers_it(rig: Rig) -> None:
    rig.scheduler.set_paused(True)
    rig.scheduler.start()
    job = rig.drop("a.wav")
    rig.scheduler.wake()
    time.sleep(0.3)
    assert state(rig, job.id) == "queued" and rig.worker.submitted == []
    assert rig.store.get_setting("paused") == "1"
    rig.scheduler.set_paused(False)
    until(lambda: state(rig, job.id) == "done")
    assert rig.event_types()[:2] == ["paused", "resumed"]


def test_a_held_job_waits_with_its_reason_and_starts_when_the_hold_lifts(rig: Rig) -> None:
    rig.hold = "waiting for memory: the model needs 1.2 GB, 0.4 GB available"
    rig.scheduler.start()
    job = rig.drop("a.wav")
    rig.scheduler.wake()
    until(lambda: rig.scheduler.waiting_reason == rig.hold)
    assert state(rig, job.id) == "queued"
    rig.hold = None
    rig.scheduler.memory_level_changed("critical", "warning")
    until(lambda: state(rig, job.id) == "done")
    assert rig.scheduler.waiting_reason is None


def test_an_idle_worker_ends_after_the_idle_time(tmp_path: Path) -> None:
    r = Rig(tmp_path, lambda req: chunked(req.job_id, ["x"]),
            **{"engine.idle_unload_seconds": 0.3})
    try:
        r.scheduler.start()
        job = r.drop("a.wav")
        r.scheduler.wake()
        until(lambda: state(r, job.id) == "done")
        assert r.worker.alive()
        until(lambda: not r.worker.alive(), timeout=5)
    finally:
        r.close()


def test_critical_memory_ends_an_idle_worker_at_once(rig: Rig) -> None:
    rig.scheduler.start()
    job = rig.drop("a.wav")
    rig.scheduler.wake()
    until(lambda: state(rig, job.id) == "done")
    assert rig.worker.alive()
    rig.level = MemoryLevel.CRITICAL
    rig.scheduler.memory_level_changed("warning", "critical")
    until(lambda: not rig.worker.alive(), timeout=2)


def test_an_internal_error_fails_that_job_and_the_queue_goes_on(rig: Rig) -> None:
    def explode_first(req: wp.Transcribe) -> list[wp.Reply | None]:
        if req.path.endswith("bad.wav"):
            raise RuntimeError("bug")
        return chunked(req.job_id, ["fine"])

    rig.worker.script = explode_first
    bad = rig.drop("bad.wav", b"bad")
    good = rig.drop("good.wav", b"good")
    rig.scheduler.start()
    until(lambda: state(rig, good.id) == "done", timeout=10)
    after = rig.job(bad.id)
    assert after.error == "internal error (see the daemon log)" and after.attempts >= 1
    assert rig.scheduler.alive()


def test_a_broken_store_read_does_not_end_the_loop(rig: Rig, monkeypatch: pytest.MonkeyPatch
                                                   ) -> None:
    calls = {"n": 0}
    real = rig.store.next_runnable

    def flaky(now: float | None = None) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise OSError("disk I/O error")
        return real(now)

    monkeypatch.setattr(rig.store, "next_runnable", flaky)
    job = rig.drop("a.wav")
    rig.scheduler.start()
    until(lambda: state(rig, job.id) == "done", timeout=10)
    assert calls["n"] >= 2 and rig.scheduler.alive()


def test_the_heartbeat_goes_stale_when_the_loop_stops_beating(rig: Rig) -> None:
    rig.heartbeat.limit = 0.2
    rig.scheduler.start()
    until(rig.heartbeat.fresh)
    rig.stopping.set()
    rig.scheduler.join(2)
    time.sleep(0.3)
    assert not rig.heartbeat.fresh()
    rig.heartbeat.allow(5)  # a long model load is not a hang
    assert rig.heartbeat.fresh()


def test_a_job_whose_end_cannot_be_recorded_is_recorded_once_the_store_writes_again(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    disk_full = {"on": True}
    real_finish, real_fail = rig.store.finish, rig.store.fail_attempt

    def finish(*args: Any, **kw: Any) -> None:
        if disk_full["on"]:
            raise sqlite3.OperationalError("database or disk is full")
        real_finish(*args, **kw)

    def fail_attempt(*args: Any, **kw: Any) -> bool | None:
        if disk_full["on"]:
            raise sqlite3.OperationalError("database or disk is full")
        return real_fail(*args, **kw)

    monkeypatch.setattr(rig.store, "finish", finish)
    monkeypatch.setattr(rig.store, "fail_attempt", fail_attempt)
    job = rig.drop("a.wav")
    rig.scheduler.start()
    until(lambda: rig.worker.submitted, timeout=5)
    time.sleep(0.5)
    assert state(rig, job.id) == "running"  # nothing could be written
    disk_full["on"] = False  # space freed: no restart needed
    until(lambda: state(rig, job.id) == "done", timeout=10)
    assert rig.job(job.id).attempts == 2
