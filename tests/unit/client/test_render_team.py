"""`voxtrald status` on a team: each machine, what it runs, when it was last heard."""

from __future__ import annotations

from typing import Any

from voxtrald.client.render import render_status


def status(team: Any) -> dict[str, Any]:
    return {"version": "1.0", "state": "idle", "queue": {"queued": 2}, "team": team}


def test_the_team_is_listed_machine_by_machine() -> None:
    text = render_status(status({
        "queue": "postgresql://voxtral@db.lan/voxtral", "machine": "spare", "reachable": True,
        "members": [
            {"name": "spare", "running": 44, "seen_seconds_ago": 1.0, "memory_level": "normal"},
            {"name": "studio", "running": None, "seen_seconds_ago": 300.0,
             "memory_level": "critical"}]}))
    assert "Team:    postgresql://voxtral@db.lan/voxtral, this machine is spare" in text
    assert "         spare: running #44\n" in text + "\n"
    assert "studio: idle, memory critical, last heard 5:00 ago" in text


def test_an_unreachable_queue_says_the_machines_are_as_last_heard() -> None:
    text = render_status(status({"queue": "q", "machine": "a", "reachable": False,
                                 "members": [{"name": "a", "running": None}]}))
    assert "cannot be reached now: machines as last heard" in text


def test_one_machine_alone_shows_no_team_and_bad_shapes_are_ignored() -> None:
    assert "Team:" not in render_status({"version": "1.0", "queue": {}})
    assert "Team:" in render_status(status({"members": ["junk", 3]}))
