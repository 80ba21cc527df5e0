"""The tray's decisions, table by table, without any UI."""

from __future__ import annotations

from typing import Any

import pytest

from tray import notifier
from tray.model import EventBatch, Status
from tray.notices import Command
from tray.notifier import Settings, TrayState
from tray.prefs import NotifyPrefs

DEFAULT = Settings()
INSTANCE = "inst-a"


def status(
    level: str | None = "normal",
    percent: float | None = 50.0,
    seq: int | None = 0,
    instance: str | None = INSTANCE,
    update: dict[str, Any] | None = None,
    **extra: Any,
) -> Status:
    raw: dict[str, Any] = {
        "version": "1.0.0",
        "instance": instance,
        "state": "idle",
        "paused": False,
        "queue": {"queued": 0},
        "events_last_seq": seq,
        "memory": None
        if level is None
        else {"level": level, "percent": percent, "available_gb": 2.0, "message": ""},
        "update": update,
        **extra,
    }
    return Status.parse(raw)


def ev(seq: int, type_: str, **data: Any) -> dict[str, Any]:
    return {"seq": seq, "type": type_, "time": "t", "data": data}


def mem_ev(seq: int, level: str, percent: float = 85.0, reminder: bool = False) -> dict:
    return ev(
        seq,
        f"memory_{level}",
        level=level,
        percent=percent,
        available_gb=1.0,
        message="Close other applications.",
        reminder=reminder,
    )


def batch(*events: dict, instance: str | None = INSTANCE, last: int | None = None) -> EventBatch:
    seqs = [e["seq"] for e in events]
    return EventBatch.parse(
        {
            "events": list(events),
            "last_seq": last if last is not None else max(seqs, default=0),
            "gap": False,
            "instance": instance,
        }
    )


def run_levels(levels: list[str], settings: Settings = DEFAULT) -> list[str]:
    """Feed memory events one by one; return the notification titles."""
    state, _ = notifier.on_status(TrayState(), status("normal", seq=0), settings)
    titles = []
    for i, level in enumerate(levels, start=1):
        state, notes = notifier.on_events(state, batch(mem_ev(i, level)), settings)
        titles += [n.title for n in notes]
    return titles


@pytest.mark.parametrize(
    ("levels", "expected"),
    [
        (["warning"], ["Memory warning"]),
        (["critical"], ["Memory critical"]),
        (["warning", "critical"], ["Memory warning", "Memory critical"]),
        (["warning", "warning", "warning"], ["Memory warning"]),
        (["warning", "normal"], ["Memory warning"]),
        (["critical", "warning"], ["Memory critical"]),
        (["critical", "warning", "critical"], ["Memory critical", "Memory critical"]),
        (["warning", "normal", "warning"], ["Memory warning", "Memory warning"]),
        (["normal", "normal"], []),
        (["critical", "normal", "normal"], ["Memory critical"]),
    ],
)
def test_one_notification_per_level_escalation(levels: list[str], expected: list[str]) -> None:
    assert run_levels(levels) == expected


def test_back_to_normal_only_when_asked() -> None:
    on = Settings(notify_back_to_normal=True)
    assert run_levels(["warning", "normal"], on) == ["Memory warning", "Memory back to normal"]
    assert run_levels(["critical", "warning", "normal"], on) == [
        "Memory critical",
        "Memory back to normal",
    ]
    assert run_levels(["normal"], on) == []


def test_critical_reminder_only_on_reminder_events() -> None:
    state, _ = notifier.on_status(TrayState(), status(seq=0), DEFAULT)
    state, notes = notifier.on_events(state, batch(mem_ev(1, "critical", 95)), DEFAULT)
    assert [n.title for n in notes] == ["Memory critical"]
    assert notes[0].urgency == "critical"
    state, notes = notifier.on_events(state, batch(mem_ev(2, "critical", 96)), DEFAULT)
    assert notes == []
    state, notes = notifier.on_events(state, batch(mem_ev(3, "critical", 96, True)), DEFAULT)
    assert [n.title for n in notes] == ["Memory still critical"]
    # A warning-level reminder is not announced again.
    state, _ = notifier.on_events(state, batch(mem_ev(4, "warning", 85)), DEFAULT)
    state, notes = notifier.on_events(state, batch(mem_ev(5, "warning", 85, True)), DEFAULT)
    assert notes == []


def test_notification_carries_message_percent_and_available() -> None:
    state, _ = notifier.on_status(TrayState(), status(seq=0), DEFAULT)
    _, notes = notifier.on_events(state, batch(mem_ev(1, "warning", 83.4)), DEFAULT)
    assert "Close other applications." in notes[0].message
    assert "83 %" in notes[0].message and "1.0 GB" in notes[0].message


def test_dismiss_memory_silences_until_normal() -> None:
    state, _ = notifier.on_status(TrayState(), status(seq=0), DEFAULT)
    state, notes = notifier.on_events(state, batch(mem_ev(1, "warning")), DEFAULT)
    assert len(notes) == 1
    state = notifier.on_dismiss_memory(state)
    assert state.memory_silenced
    steps = [(2, "critical", False), (3, "critical", True), (4, "warning", False)]
    for seq, level, reminder in steps:
        event = mem_ev(seq, level, reminder=reminder)
        state, notes = notifier.on_events(state, batch(event), DEFAULT)
        assert notes == []
    state, notes = notifier.on_events(state, batch(mem_ev(5, "normal", 50)), DEFAULT)
    assert notes == [] and not state.memory_silenced
    state, notes = notifier.on_events(state, batch(mem_ev(6, "warning")), DEFAULT)
    assert [n.title for n in notes] == ["Memory warning"]


def test_dismiss_memory_when_normal_does_nothing() -> None:
    state, _ = notifier.on_status(TrayState(), status(seq=0), DEFAULT)
    assert notifier.on_dismiss_memory(state) == state


def test_status_and_events_agree_on_one_notification() -> None:
    """An escalation seen first by status and then as an event is announced once."""
    state, notes = notifier.on_status(TrayState(), status("normal", seq=3), DEFAULT)
    assert notes == []
    state, notes = notifier.on_status(state, status("warning", 84, seq=3), DEFAULT)
    assert len(notes) == 1
    state, notes = notifier.on_events(state, batch(mem_ev(4, "warning")), DEFAULT)
    assert notes == []


def test_stale_status_cannot_undo_newer_event() -> None:
    state, _ = notifier.on_status(TrayState(), status("normal", seq=3), DEFAULT)
    state, notes = notifier.on_events(state, batch(mem_ev(4, "warning")), DEFAULT)
    assert len(notes) == 1
    # A status read before event 4 still says normal: it must not reset the level...
    state, notes = notifier.on_status(state, status("normal", seq=3), DEFAULT)
    assert notes == [] and state.memory_level == "warning"
    # ...so the next up-to-date status does not announce the warning again.
    state, notes = notifier.on_status(state, status("warning", seq=4), DEFAULT)
    assert notes == []


def test_first_status_at_elevated_level_announces_once() -> None:
    state, notes = notifier.on_status(TrayState(), status("critical", 93, seq=10), DEFAULT)
    assert [n.title for n in notes] == ["Memory critical"]
    state, notes = notifier.on_status(state, status("critical", 93, seq=10), DEFAULT)
    assert notes == []


def test_status_without_memory_changes_nothing() -> None:
    state, _ = notifier.on_status(TrayState(), status("warning", seq=1), DEFAULT)
    state2, notes = notifier.on_status(state, status(None, seq=1), DEFAULT)
    assert notes == [] and state2.memory_level == "warning"


def test_restarted_daemon_not_yet_measured_announces_nothing_again() -> None:
    settings = Settings(notify_back_to_normal=True)
    state, notes = notifier.on_status(TrayState(), status("warning", 85, seq=5), settings)
    assert [n.title for n in notes] == ["Memory warning"]
    # A daemon just started says "normal" with no percent: no reading, no news.
    state, notes = notifier.on_status(
        state, status("normal", None, seq=0, instance="inst-b"), settings
    )
    assert notes == [] and state.memory_level == "warning"
    state, notes = notifier.on_events(
        state, batch(mem_ev(1, "warning"), instance="inst-b"), settings
    )
    assert notes == []


def test_burst_of_100_events_gives_at_most_one_per_kind() -> None:
    settings = Settings(notify_back_to_normal=True)
    state, _ = notifier.on_status(TrayState(), status(seq=0), settings)
    events = []
    for i in range(1, 101):
        kind = i % 4
        if kind == 0:
            events.append(mem_ev(i, ["warning", "critical", "normal"][i % 3]))
        elif kind == 1:
            events.append(ev(i, "job_failed", id=i, file=f"f{i}.wav", error="bad", final=True))
        elif kind == 2:
            events.append(ev(i, "update_available", version=f"1.{i}.0", release_url=None))
        else:
            events.append(ev(i, "job_done", id=i, file=f"f{i}.wav"))
    state, notes = notifier.on_events(state, batch(*events), settings)
    kinds = [n.kind for n in notes]
    assert sorted(kinds) == ["job_failed", "memory", "update"]
    failed = next(n for n in notes if n.kind == "job_failed")
    assert failed.title == "25 transcriptions failed"
    assert state.last_seq == 100
    # The 25 finished jobs wait for the daemon to be idle, then make one notice.
    assert len(state.finished) == 25
    state, notes = notifier.on_status(state, status(seq=100), settings)
    state, notes = notifier.on_tick(state, notifier.BATCH_QUIET)
    assert [n.title for n in notes] == ["25 transcripts ready"]
    # The same batch again (a retry after a timeout) announces nothing.
    _, notes = notifier.on_events(state, batch(*events), settings)
    assert notes == []


def test_update_announced_once_per_version() -> None:
    offer = {
        "update_available": True,
        "latest_version": "1.1.0",
        "release_url": "https://example.invalid/r",
        "dismissed": False,
    }
    state, notes = notifier.on_status(TrayState(), status(update=offer), DEFAULT)
    assert [n.kind for n in notes] == ["update"] and "1.1.0" in notes[0].title
    state, notes = notifier.on_status(state, status(update=offer), DEFAULT)
    assert notes == []
    state, notes = notifier.on_events(
        state, batch(ev(1, "update_available", version="1.1.0")), DEFAULT
    )
    assert notes == []
    state, notes = notifier.on_events(
        state, batch(ev(2, "update_available", version="1.2.0")), DEFAULT
    )
    assert [n.title for n in notes] == ["Voxtral 1.2.0 is available"]
    assert state.announced_versions == {"1.1.0", "1.2.0"}


def test_announced_versions_survive_a_tray_restart() -> None:
    """The caller persists announced_versions; a new tray seeded with them stays quiet."""
    offer = {"update_available": True, "latest_version": "1.1.0", "dismissed": False}
    fresh = TrayState(announced_versions=frozenset({"1.1.0"}))
    _, notes = notifier.on_status(fresh, status(update=offer), DEFAULT)
    assert notes == []


def test_dismissed_version_is_silent_but_newer_notifies() -> None:
    dismissed = {"update_available": True, "latest_version": "1.1.0", "dismissed": True}
    state, notes = notifier.on_status(TrayState(), status(update=dismissed), DEFAULT)
    assert notes == [] and state.update_offer() is None
    state, notes = notifier.on_events(
        state, batch(ev(1, "update_available", version="1.1.0")), DEFAULT
    )
    assert notes == []
    newer = {"update_available": True, "latest_version": "1.2.0", "dismissed": False}
    state, notes = notifier.on_status(state, status(update=newer, seq=1), DEFAULT)
    assert len(notes) == 1


def test_skip_version_hides_the_offer() -> None:
    offer = {
        "update_available": True,
        "latest_version": "1.1.0",
        "dismissed": False,
        "release_url": "https://example.invalid/r",
    }
    state, _ = notifier.on_status(TrayState(), status(update=offer), DEFAULT)
    assert state.update_offer() == ("1.1.0", "https://example.invalid/r")
    state = notifier.on_skip_version(state, "1.1.0")
    assert state.update_offer() is None


def test_daemon_restart_repeats_nothing() -> None:
    offer = {"update_available": True, "latest_version": "1.1.0", "dismissed": False}
    state, notes = notifier.on_status(TrayState(), status("warning", seq=40, update=offer), DEFAULT)
    assert len(notes) == 2
    state = notifier.on_offline(state, "gone")
    assert not state.online
    # The new daemon numbers events from 1 again and still reports warning.
    state, notes = notifier.on_events(
        state, batch(mem_ev(41, "critical"), instance="inst-b", last=2), DEFAULT
    )
    assert notes == [] and state.last_seq == 2 and state.instance == "inst-b"
    state, notes = notifier.on_status(
        state, status("warning", seq=2, instance="inst-b", update=offer), DEFAULT
    )
    assert notes == [] and state.online
    state, notes = notifier.on_events(
        state, batch(mem_ev(3, "critical"), instance="inst-b"), DEFAULT
    )
    assert [n.title for n in notes] == ["Memory critical"]


def test_daemon_restart_seen_first_by_status_resyncs_events() -> None:
    state, _ = notifier.on_status(TrayState(), status(seq=40), DEFAULT)
    state, _ = notifier.on_status(state, status(seq=1, instance="inst-b"), DEFAULT)
    assert state.last_seq == 1
    state, notes = notifier.on_events(
        state, batch(mem_ev(2, "warning"), instance="inst-b"), DEFAULT
    )
    assert len(notes) == 1


def test_restart_of_a_daemon_without_instance_ids() -> None:
    state, _ = notifier.on_status(TrayState(), status(seq=40, instance=None), DEFAULT)
    state, notes = notifier.on_events(state, batch(mem_ev(1, "warning"), instance=None), DEFAULT)
    assert notes == [] and state.last_seq == 1
    state, notes = notifier.on_events(state, batch(mem_ev(2, "critical"), instance=None), DEFAULT)
    assert len(notes) == 1


def test_offline_keeps_what_was_announced() -> None:
    state, _ = notifier.on_status(TrayState(), status("warning", seq=5), DEFAULT)
    state = notifier.on_offline(state, "no socket")
    assert state.memory_level == "warning" and state.offline_reason == "no socket"
    state, notes = notifier.on_status(state, status("warning", seq=5), DEFAULT)
    assert notes == []


@pytest.mark.parametrize(
    ("final", "setting", "count"),
    [(True, True, 1), (None, True, 1), (False, True, 0), (True, False, 0)],
)
def test_job_failed_notification_is_optional(final: bool | None, setting: bool, count: int) -> None:
    state, _ = notifier.on_status(TrayState(prefs=NotifyPrefs(job_failed=setting)), status(seq=0),
                                  DEFAULT)
    data: dict[str, Any] = {"id": 1, "file": "a.wav", "error": "decode error"}
    if final is not None:
        data["final"] = final
    _, notes = notifier.on_events(state, batch(ev(1, "job_failed", **data)), DEFAULT)
    assert len(notes) == count
    if count:
        assert notes[0].message == "a.wav: decode error"
        assert [(a.key, a.command) for a in notes[0].actions] == [
            ("show_error", Command("show_error", 1)), ("retry", Command("retry", 1))]


@pytest.mark.parametrize(
    "raw",
    [
        {},
        {"state": 42, "queue": "x", "memory": "high", "update": [], "current_job": 7},
        {"memory": {"level": "meltdown", "percent": "lots"}, "events_last_seq": "x"},
        {"update": {"update_available": True}, "future_field": {"a": 1}},
        {"current_job": {"id": "7", "percent": None}, "paused": "yes"},
    ],
)
def test_garbage_and_partial_status_is_tolerated(raw: dict) -> None:
    state, notes = notifier.on_status(TrayState(), Status.parse(raw), DEFAULT)
    assert state.online and notes == []


def test_garbage_events_are_skipped() -> None:
    state, _ = notifier.on_status(TrayState(), status(seq=0), DEFAULT)
    junk = EventBatch.parse(
        {
            "events": [
                None,
                3,
                {"seq": "1"},
                {"seq": 1, "type": "memory_warning", "data": "x"},
                {"seq": 2, "type": "who_knows"},
            ],
            "last_seq": 2,
            "instance": INSTANCE,
        }
    )
    state, notes = notifier.on_events(state, junk, DEFAULT)
    assert [n.title for n in notes] == ["Memory warning"] and state.last_seq == 2
    assert notifier.on_events(state, EventBatch.parse("garbage"), DEFAULT)[1] == []


def test_paused_event_updates_menu_state_before_next_poll() -> None:
    state, _ = notifier.on_status(TrayState(), status(seq=0), DEFAULT)
    state, _ = notifier.on_events(state, batch(ev(1, "paused")), DEFAULT)
    assert state.status is not None and state.status.paused
    state, _ = notifier.on_events(state, batch(ev(2, "resumed")), DEFAULT)
    assert not state.status.paused


def test_remembered_versions_are_bounded() -> None:
    state, _ = notifier.on_status(TrayState(), status(seq=0), DEFAULT)
    for minor in range(40):
        upd = ev(minor + 1, "update_available", version=f"1.{minor}.0")
        state, _ = notifier.on_events(state, batch(upd), DEFAULT)
    assert len(state.announced_versions) <= notifier.MAX_REMEMBERED_VERSIONS
    assert "1.39.0" in state.announced_versions
