"""The event log: catch-up by sequence, long-poll, gaps."""

from __future__ import annotations

import threading
import time

from voxtrald.events import EventLog
from voxtrald.states import EventType


def test_catch_up_and_gap() -> None:
    log = EventLog(capacity=3)
    for i in range(5):
        log.emit(EventType.JOB_DONE, id=i)
    res = log.since(0)
    assert [e["seq"] for e in res["events"]] == [3, 4, 5] and res["gap"] is True
    res = log.since(3)
    assert [e["data"]["id"] for e in res["events"]] == [3, 4] and res["gap"] is False


def test_long_poll_wakes_on_emit() -> None:
    log = EventLog()
    threading.Timer(0.2, lambda: log.emit(EventType.PAUSED)).start()
    started = time.monotonic()
    res = log.since(0, timeout=5)
    assert [e["type"] for e in res["events"]] == ["paused"]
    assert time.monotonic() - started < 4


def test_long_poll_times_out_empty() -> None:
    res = EventLog().since(0, timeout=0.1)
    assert res["events"] == [] and res["gap"] is False


def test_a_client_ahead_of_a_restarted_log_gets_everything() -> None:
    log = EventLog()
    log.emit(EventType.RESUMED)
    res = log.since(50)
    assert res["gap"] is True and len(res["events"]) == 1


def test_a_client_ahead_of_a_restarted_log_does_not_wait() -> None:
    # Its `after` can never be reached by this log; waiting would only delay the resync.
    log = EventLog()
    log.emit(EventType.RESUMED)
    started = time.monotonic()
    res = log.since(50, timeout=30)
    assert time.monotonic() - started < 5
    assert res["gap"] is True and [e["type"] for e in res["events"]] == ["resumed"]


def test_long_poll_ends_early_when_cancelled() -> None:
    gone = threading.Event()
    threading.Timer(0.3, gone.set).start()
    started = time.monotonic()
    res = EventLog().since(0, timeout=30, cancelled=gone.is_set)
    assert time.monotonic() - started < 5
    assert res["events"] == [] and res["gap"] is False


def test_cancel_check_does_not_delay_an_event() -> None:
    log = EventLog()
    threading.Timer(0.2, lambda: log.emit(EventType.PAUSED)).start()
    started = time.monotonic()
    res = log.since(0, timeout=30, cancelled=lambda: False)
    assert [e["type"] for e in res["events"]] == ["paused"]
    assert time.monotonic() - started < 5
