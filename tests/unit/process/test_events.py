"""The event log: catch-up by sequence, long-poll, gaps."""

from __future__ import annotations

import threading

from tests.support.waiting import returns
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


# The long-polls below wait an hour unless something ends them: returning at all (within
# the guard's 30 s) is the event each test waits for.
HOUR = 3600.0


def test_long_poll_wakes_on_emit() -> None:
    log = EventLog()
    threading.Timer(0.2, lambda: log.emit(EventType.PAUSED)).start()
    res = returns(lambda: log.since(0, timeout=HOUR), what="the long-poll to wake on the event")
    assert [e["type"] for e in res["events"]] == ["paused"]


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
    res = returns(lambda: log.since(50, timeout=HOUR), what="an answer without waiting")
    assert res["gap"] is True and [e["type"] for e in res["events"]] == ["resumed"]


def test_long_poll_ends_early_when_cancelled() -> None:
    gone = threading.Event()
    threading.Timer(0.3, gone.set).start()
    res = returns(lambda: EventLog().since(0, timeout=HOUR, cancelled=gone.is_set),
                  what="the long-poll to notice its client left")
    assert res["events"] == [] and res["gap"] is False


def test_cancel_check_does_not_delay_an_event() -> None:
    log = EventLog()
    threading.Timer(0.2, lambda: log.emit(EventType.PAUSED)).start()
    res = returns(lambda: log.since(0, timeout=HOUR, cancelled=lambda: False),
                  what="the event, between two checks for the client")
    assert [e["type"] for e in res["events"]] == ["paused"]
