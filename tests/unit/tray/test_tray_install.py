"""Installing an update from the tray, as tables: the menu item, the notice's buttons,
the apply's progress as the tray tracks it, and the outcomes told once each. Pure
functions only; tests/test_tray_install_e2e.py shows them on a desktop."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from tray import installing, notices, notifier, statefile, view
from tray.installing import InstallState
from tray.model import ApplyProgress, EventBatch, Status
from tray.notices import Command
from tray.notifier import Settings, TrayState
from tray.prefs import NotifyPrefs

S = Settings()
URL = "https://example.invalid/releases/v1.1.0"


def offer(version: str = "1.1.0", can_apply: bool = True, **extra: Any) -> dict[str, Any]:
    return {"update_available": True, "latest_version": version, "release_url": URL,
            "dismissed": False, "can_apply": can_apply, **extra}


def status(seq: int = 0, instance: str = "a", update: dict[str, Any] | None = None,
           version: str = "1.0.0") -> Status:
    return Status.parse({"version": version, "instance": instance, "events_last_seq": seq,
                         "update": update})


def ev(seq: int, type_: str, **data: Any) -> dict[str, Any]:
    return {"seq": seq, "type": type_, "data": data}


def events(*evs: dict[str, Any], instance: str = "a", last: int | None = None) -> EventBatch:
    last_seq = last if last is not None else max((e["seq"] for e in evs), default=0)
    return EventBatch.parse({"events": list(evs), "last_seq": last_seq, "instance": instance})


def seen(state: TrayState, raw: Status) -> tuple[TrayState, list[notices.Notification]]:
    return notifier.on_status(state, raw, S)


def item(state: TrayState) -> view.MenuEntry:
    return view.flatten(view.menu(state))["install_update"]


ROLLED = ev(2, "update_rolled_back", version="1.1.0", restored="1.0.0",
            reason="it exited during its first start (exit status 3)")


# -- the update notice and its buttons -------------------------------------------------


@pytest.mark.parametrize(
    ("url", "can_apply", "keys", "default"),
    [
        (URL, True, ["open_release", "install_update", "skip_version"], "open_release"),
        (URL, False, ["open_release", "skip_version"], "open_release"),
        # Without a page to open, a click on the body does nothing rather than install or skip.
        (None, True, ["install_update", "skip_version"], None),
        ("http://example.invalid/x", False, ["skip_version"], None),
    ],
)
def test_update_notice_buttons(url: str | None, can_apply: bool, keys: list[str],
                               default: str | None) -> None:
    note = notices.update_notice("1.1.0", url, can_apply)
    assert [a.key for a in note.actions] == keys
    chosen = notices.default_action(note)
    assert (chosen.key if chosen else None) == default
    if can_apply:
        install = next(a for a in note.actions if a.key == "install_update")
        assert (install.label, install.command) == (
            "Install and restart", Command("install_update", "1.1.0"))
        assert "Install it now" in note.message


@pytest.mark.parametrize(
    ("status_update", "button"),
    [
        (offer("1.1.0", can_apply=True), True),
        (offer("1.1.0", can_apply=False), False),
        (offer("1.0.5", can_apply=True), False),  # the status does not know it yet
        (None, False),
    ],
)
def test_update_notice_takes_install_button_from_the_status(
        status_update: dict[str, Any] | None, button: bool) -> None:
    """The controller reads the status before an update_available event (only the status
    says whether this install can apply it): one notice, with the button where it can."""
    state, _ = seen(TrayState(announced_versions=frozenset({"1.0.5"})), status())
    state, first = seen(state, status(update=status_update))
    state, then = notifier.on_events(state, events(ev(1, "update_available", version="1.1.0",
                                                      release_url=URL)), S)
    notes = first + then
    assert [n.title for n in notes] == ["Voxtral 1.1.0 is available"]
    assert any(a.key == "install_update" for a in notes[0].actions) is button


def test_status_first_when_a_release_is_announced() -> None:
    assert notifier.wants_status_first(events(ev(1, "job_done"), ev(2, "update_available")))
    assert not notifier.wants_status_first(events(ev(1, "job_done"), ROLLED))
    assert not notifier.wants_status_first(events())


# -- the menu item ---------------------------------------------------------------------


def applying(step: str, version: str = "1.1.0", online: bool = True) -> TrayState:
    state, _ = seen(TrayState(), status(update=offer()))
    state = replace_install(state, InstallState(applying=version, step=step))
    return state if online else notifier.on_offline(state, "gone")


def replace_install(state: TrayState, install: InstallState) -> TrayState:
    return replace(state, install=install)


def skipped() -> TrayState:
    state, _ = seen(TrayState(), status(update=offer()))
    return notifier.on_skip_version(state, "1.1.0")


@pytest.mark.parametrize(
    ("state", "text", "enabled", "visible"),
    [
        (TrayState(), "", False, False),
        (seen(TrayState(), status(update=offer(can_apply=True)))[0],
         "Install 1.1.0 and restart", True, True),
        (seen(TrayState(), status(update=offer(can_apply=False)))[0], "", False, False),
        (seen(TrayState(), status(update=offer(dismissed=True)))[0], "", False, False),
        (seen(TrayState(), status(update=offer(update_available=False)))[0], "", False, False),
        (skipped(), "", False, False),
        (notifier.on_offline(seen(TrayState(), status(update=offer()))[0], "gone"),
         "", False, False),
        (applying(installing.REQUESTED), "Installing 1.1.0…", False, True),
        (applying("downloading"), "Installing 1.1.0…", False, True),
        (applying("testing"), "Installing 1.1.0…", False, True),
        (applying("restarting"), "Restarting into 1.1.0…", False, True),
        # The daemon went away to restart: the item still says what is going on.
        (applying("restarting", online=False), "Restarting into 1.1.0…", False, True),
        (applying("installing", version="1.2.0\x1b[2J"), "Installing 1.2.0\\x1b[2J…", False,
         True),
    ],
)
def test_install_menu_item(state: TrayState, text: str, enabled: bool, visible: bool) -> None:
    entry = item(state)
    assert (entry.visible, entry.enabled) == (visible, enabled)
    if visible:
        assert entry.text == text
    if enabled:
        assert entry.command == Command("install_update", "1.1.0")


# -- an apply as the tray follows it ---------------------------------------------------


def _step(state: TrayState, what: str) -> tuple[TrayState, list[str]]:
    """Feed one input named in a table; return the new state and the titles raised."""
    kind, _, arg = what.partition(" ")
    notes: list[notices.Notification] = []
    if kind == "click":
        state = notifier.on_apply_requested(state, arg or "1.1.0")
    elif kind == "refused":
        state, notes = notifier.on_apply_refused(state, "1.1.0", arg)
    elif kind == "accepted":
        state = notifier.on_apply_started(state, ApplyProgress.parse(
            {"state": arg, "version": "1.1.0"} if arg else {}))
    elif kind == "progress":
        state = notifier.on_apply_progress(state, ApplyProgress.parse(
            {"state": arg, "version": "1.1.0"}))
    elif kind == "event":
        seq = (state.last_seq or 0) + 1
        data = {"version": "1.1.0", "previous": "1.0.0", "message": "no network"}
        state, notes = notifier.on_events(state, events(ev(seq, arg, **data)), S)
    elif kind == "restart":
        state, notes = seen(notifier.on_offline(state, "gone"),
                            status(instance=arg or "b", update=offer()))
    else:
        raise AssertionError(what)
    return state, [n.title for n in notes]


@pytest.mark.parametrize(
    ("steps", "applying", "titles"),
    [
        (["click"], "1.1.0", []),
        (["click 1.1.0", "click 1.2.0"], "1.1.0", []),  # a second click starts nothing
        (["click", "refused Voxtral 1.1.0 is already being applied (installing)"], None,
         ["Could not install Voxtral 1.1.0"]),
        (["click", "accepted downloading"], "1.1.0", []),
        (["click", "accepted"], None, []),  # a 202 naming no step: the progress reads tell
        # A progress read from before the request was answered does not undo the click.
        (["click", "progress idle"], "1.1.0", []),
        (["click", "accepted downloading", "progress idle"], None, []),
        (["click", "accepted downloading", "progress failed"], None, []),
        # Started elsewhere (the command line): the tray sees it and says so.
        (["progress testing"], "1.1.0", []),
        (["click", "accepted downloading", "event update_failed"], None,
         ["Voxtral 1.1.0 was not installed"]),
        (["click", "accepted installing", "event update_restarting"], "1.1.0", []),
        (["click", "accepted installing", "event update_restarting", "restart"], None, []),
        (["event update_restarting"], "1.1.0", []),
        (["click", "accepted installing", "restart"], None, []),
        # The daemon went away while the request was on its way: its answer will tell.
        (["click", "restart"], "1.1.0", []),
    ],
)
def test_apply_as_the_tray_follows_it(steps: list[str], applying: str | None,
                                      titles: list[str]) -> None:
    state, _ = seen(TrayState(), status(update=offer()))
    raised: list[str] = []
    for what in steps:
        state, more = _step(state, what)
        raised += more
    assert state.install.applying == applying
    assert raised == titles
    assert (state.install_offer() is None) is (applying is not None)


def test_a_late_answer_does_not_undo_what_came_first() -> None:
    state, _ = seen(TrayState(), status(update=offer()))
    for what in ("click", "event update_restarting", "accepted downloading"):
        state, _ = _step(state, what)
    assert (state.install.applying, state.install.step) == ("1.1.0", "restarting")


def test_refusal_tells_the_daemons_reason() -> None:
    state, _ = seen(TrayState(), status(update=offer()))
    state = notifier.on_apply_requested(state, "1.1.0")
    state, notes = notifier.on_apply_refused(
        state, "1.1.0", "this daemon cannot apply updates: a source checkout updates with "
        "`git pull` and `make run`")
    assert [(n.kind, n.title) for n in notes] == [("install", "Could not install Voxtral 1.1.0")]
    assert notes[0].message == ("This daemon cannot apply updates: a source checkout updates "
                                "with `git pull` and `make run`.")
    assert item(state).enabled and item(state).text == "Install 1.1.0 and restart"


def test_watch_apply_only_while_an_install_runs_or_can_start() -> None:
    assert not notifier.watch_apply(TrayState())
    assert not notifier.watch_apply(seen(TrayState(), status(update=offer(can_apply=False)))[0])
    assert notifier.watch_apply(seen(TrayState(), status(update=offer()))[0])
    assert notifier.watch_apply(applying("testing"))
    assert not notifier.watch_apply(applying("restarting", online=False))


# -- outcomes, told once each ----------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "title", "message"),
    [
        (ev(2, "update_failed", version="1.1.0",
            message="the self-check of Voxtral 1.1.0 failed (ImportError); nothing was changed"),
         "Voxtral 1.1.0 was not installed",
         "The self-check of Voxtral 1.1.0 failed (ImportError); nothing was changed. "
         "The running version carries on."),
        (ROLLED, "Voxtral 1.1.0 did not start properly; back on 1.0.0",
         "It exited during its first start (exit status 3). Voxtral 1.1.0 is not offered again."),
        (ev(2, "update_rolled_back", version="1.1.0", restored="1.0.0",
            reason=notices.MANUAL_ROLLBACK),
         "Back on Voxtral 1.0.0", "Voxtral 1.1.0 was rolled back by hand."),
        (ev(2, "update_rolled_back", version="1.1.0", restored="1.0.0", reason=None),
         "Voxtral 1.1.0 did not start properly; back on 1.0.0",
         "It did not report healthy. Voxtral 1.1.0 is not offered again."),
        (ev(2, "update_applied", version="1.1.0", previous="1.0.0"),
         "Voxtral 1.1.0 is running", "Updated from 1.0.0."),
        (ev(2, "update_failed", version="1.1.0\x07", message="disk\nfull"),
         "Voxtral 1.1.0\\x07 was not installed", "Disk\\nfull. The running version carries on."),
    ],
)
def test_outcome_notices(event: dict[str, Any], title: str, message: str) -> None:
    state, _ = seen(TrayState(), status(seq=1))
    state, notes = notifier.on_events(state, events(event), S)
    assert [(n.kind, n.title, n.message) for n in notes] == [("install", title, message)]
    # The same event again (a retried long-poll) says nothing.
    assert notifier.on_events(replace_last(state, 1), events(event), S)[1] == []


def replace_last(state: TrayState, seq: int) -> TrayState:
    return replace(state, last_seq=seq)


@pytest.mark.parametrize("bad", [
    ev(2, "update_rolled_back"), ev(2, "update_failed", version=7),
    ev(2, "update_applied", version=""),
])
def test_outcome_without_a_version_is_skipped(bad: dict[str, Any]) -> None:
    state, _ = seen(TrayState(), status(seq=1))
    assert notifier.on_events(state, events(bad), S)[1] == []


def test_outcomes_are_told_even_with_new_versions_switched_off() -> None:
    state, _ = seen(TrayState(prefs=NotifyPrefs(updates=False)), status(seq=1))
    _, notes = notifier.on_events(state, events(ROLLED), S)
    assert len(notes) == 1


def test_rollback_told_by_a_restarted_daemon_before_the_tray_is_back() -> None:
    """The restored daemon emits the event before the tray's first status of it: the
    history of a daemon just met holds it; a tray restart does not tell it again."""
    state, _ = seen(TrayState(), status(seq=5, update=offer()))
    assert state.history_wanted  # the first daemon met: its history is read too
    state, notes = notifier.on_history(state, events(ev(3, "job_done"), last=5))
    assert notes == [] and not state.history_wanted
    state = notifier.on_apply_requested(state, "1.1.0")
    state = notifier.on_apply_started(state, ApplyProgress("installing", "1.1.0"))
    state, _ = notifier.on_events(state, events(ev(6, "update_restarting", version="1.1.0")), S)
    state = notifier.on_offline(state, "restarting")
    assert item(state).text == "Restarting into 1.1.0…"

    # Back on 1.0.0: seq 2 is already past when the tray first reads the new daemon.
    back = status(seq=2, instance="b", update=offer(update_available=False, rolled_back=True))
    state, notes = seen(state, back)
    assert notes == [] and state.history_wanted and state.install.applying is None
    history = events(ev(1, "memory_warning", level="warning"), ROLLED, instance="b")
    state, notes = notifier.on_history(state, history)
    assert [n.title for n in notes] == ["Voxtral 1.1.0 did not start properly; back on 1.0.0"]
    assert state.install.news_seen == ("b:2",)
    # The live stream may carry it too: still once.
    assert notifier.on_events(replace_last(state, 1), events(ROLLED, instance="b"), S)[1] == []
    assert not item(state).visible  # nothing on offer: that version is not offered again

    # A tray restarted with what it saved reads the same history: nothing again.
    fresh = TrayState(install=InstallState(news_seen=state.install.news_seen))
    fresh, _ = seen(fresh, back)
    assert notifier.on_history(fresh, history)[1] == []
    # A later daemon rolling the same version back again is new news.
    later, _ = seen(fresh, status(seq=2, instance="c"))
    assert len(notifier.on_history(later, events(ROLLED, instance="c"))[1]) == 1


def test_history_of_another_instance_waits_for_the_next_status() -> None:
    state, _ = seen(TrayState(), status(seq=2, instance="b"))
    state, notes = notifier.on_history(state, events(ROLLED, instance="c"))
    assert notes == [] and state.history_wanted


def test_history_replays_no_restart_and_no_other_kinds() -> None:
    state, _ = seen(TrayState(), status(seq=9))
    history = events(ev(1, "update_restarting", version="1.1.0"),
                     ev(2, "update_available", version="1.1.0"),
                     ev(3, "job_failed", id=1, file="a.wav", final=True), last=9)
    state, notes = notifier.on_history(state, history)
    assert notes == [] and state.install.applying is None


def test_news_memory_is_bounded() -> None:
    state = InstallState()
    for seq in range(installing.MAX_NEWS + 5):
        state, _ = installing.on_event(state, installing.news_key("a", seq), "update_applied",
                                       {"version": "1.1.0"})
    assert len(state.news_seen) == installing.MAX_NEWS
    assert state.news_seen[-1] == f"a:{installing.MAX_NEWS + 4}"


def test_news_survive_in_the_state_file(tmp_path: Path) -> None:
    path = tmp_path / "tray.json"
    assert statefile.load_news(path) == ()
    assert statefile.save(path, frozenset({"1.1.0"}), NotifyPrefs(), ("a:2", "b:7"))
    assert statefile.load_news(path) == ("a:2", "b:7")
    assert statefile.save_announced(path, frozenset({"1.2.0"}))  # keeps what it does not write
    assert statefile.load_news(path) == ("a:2", "b:7")
    path.write_text('{"install_news": ["a:2", 3, null, ""]}')
    assert statefile.load_news(path) == ("a:2",)
    path.write_text('{"install_news": "a:2"}')
    assert statefile.load_news(path) == ()
