"""Menu text, enabled flags, tooltip and icon look for a given tray state."""

from __future__ import annotations

from typing import Any

import pytest

from tray import notifier, view
from tray.model import Status
from tray.notifier import Settings, TrayState


def online(**raw: Any) -> TrayState:
    state, _ = notifier.on_status(TrayState(), Status.parse(raw), Settings())
    return state


def entries(state: TrayState) -> dict[str, view.MenuEntry]:
    return {e.key: e for e in view.menu(state)}


def test_offline_menu_only_allows_what_needs_no_daemon() -> None:
    menu = [e for e in view.menu(TrayState()) if e.visible and not e.key.startswith("-")]
    assert [e.key for e in menu if e.enabled] == [
        "start_daemon", "recent", "notifications", "open_log", "about", "quit"]
    assert menu[0].text == "Voxtral is not running"
    assert view.icon_look(TrayState()).activity == "offline"


def test_transcribing_tooltip_and_job_line() -> None:
    state = online(
        state="transcribing",
        current_job={"id": 1, "file": "meeting.m4a", "percent": 42.0, "eta_seconds": 31},
        memory={"level": "warning", "percent": 83.2, "available_gb": 2.7},
    )
    assert view.tooltip(state) == (
        "Voxtral — Transcribing meeting.m4a 42 % · 31 s left · RAM 83 %")
    assert entries(state)["status"].text == "Transcribing meeting.m4a"
    assert "job" not in entries(state)  # said once, in the status line
    assert view.icon_look(state) == view.IconLook("transcribing", "warning", 42.0, False)


@pytest.mark.parametrize(
    ("url", "enabled"),
    [
        ("https://example.invalid/r", True),
        ("http://example.invalid/r", False),
        ("javascript:alert(1)", False),
        ("file:///etc/passwd", False),
        (None, False),
        ("https://", False),
    ],
)
def test_release_item_enabled_only_for_https(url: str | None, enabled: bool) -> None:
    state = online(update={"update_available": True, "latest_version": "1.1.0", "release_url": url})
    item = entries(state)["open_release"]
    assert item.visible and item.enabled is enabled
    assert item.text == "Update 1.1.0 available — open release page"
    assert view.icon_look(state).badge


def test_pause_item_follows_state() -> None:
    assert entries(online(paused=False))["pause_resume"].text == "Pause transcription"
    assert entries(online(paused=True))["pause_resume"].text == "Resume transcription"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(None, ""), (5, "5 s left"), (125, "2 min left"), (3900, "1 h 5 min left")],
)
def test_eta_format(seconds: float | None, text: str) -> None:
    assert view.format_eta(seconds) == text


TEAM = {"queue": "postgresql://voxtral@db.lan/voxtral", "machine": "spare", "reachable": True,
        "members": [
            {"name": "spare", "version": "1.0", "seen_seconds_ago": 1.0, "running": 7,
             "memory_level": "normal"},
            {"name": "studio", "version": "1.0", "seen_seconds_ago": 2.0, "running": None,
             "memory_level": "warning"},
            {"name": "old-box", "version": "1.0", "seen_seconds_ago": 600.0, "running": None,
             "memory_level": None}]}


def test_a_team_is_listed_machine_by_machine_and_alone_there_is_no_team_entry() -> None:
    team = view.flatten(view.menu(online(team=TEAM)))
    assert team["team"].visible and team["team"].text == "Team: 3 machines"
    assert [team[k].text for k in view.TEAM_KEYS[:3]] == [
        "spare (this machine): transcribing", "studio: idle, memory warning",
        "old-box: not heard from for 10 min"]
    assert not any(team[k].visible for k in view.TEAM_KEYS[3:])
    alone = view.flatten(view.menu(online()))
    assert not alone["team"].visible
    # The shape is the same either way: a team appearing never rebuilds the menu's structure.
    assert set(alone) == set(team)


def test_an_unreachable_team_queue_is_said_in_the_menu() -> None:
    away = view.flatten(view.menu(online(team={**TEAM, "reachable": False})))
    assert away["team"].text == "Team queue unreachable: no new job is taken"
    assert away["team_0"].text == "spare (this machine): transcribing"  # as last heard
