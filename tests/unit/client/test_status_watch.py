"""`voxtrald status --watch` against the real daemon: live progress, events, a restart, Ctrl-C."""

from __future__ import annotations

from typing import Any

import pytest

from voxtrald.client import render
from voxtrald.client.watch import WatchState, frame

pytestmark = [pytest.mark.timeout(180)]


def test_frame_when_unreachable_and_events_rendered() -> None:
    state = WatchState()
    state.saw_status({"instance": "a", "events_last_seq": 4})
    state.saw_events({"instance": "a", "last_seq": 6, "events": [
        {"seq": 5, "type": "job_done", "time": "2026-01-01T10:00:00Z",
         "data": {"id": 1, "file": "a\x1bb.wav", "duration": 65, "wall_seconds": 4}},
        {"seq": 6, "type": "who_knows", "data": {}},
    ]})
    assert state.seq == 6 and len(state.recent) == 1
    assert state.recent[0].endswith("done     #1 a\\x1bb.wav (1:05 of audio in 0:04)")
    # Events answered by an older daemon are not shown.
    state.saw_events({"instance": "old", "last_seq": 99, "events": [{"seq": 9, "type": "paused"}]})
    assert state.seq == 6
    state.unreachable = "voxtrald is not running (no socket at /x)"
    text = frame(None, state)
    assert text.startswith("voxtrald not reachable: voxtrald is not running")
    assert text.endswith("Watching (Ctrl-C to stop)")
    state.saw_status({"instance": "b", "events_last_seq": 0})
    assert state.seq == 0 and state.recent[-1].endswith("the daemon restarted")


@pytest.mark.parametrize(
    ("event", "line"),
    [
        ({"type": "job_failed", "data": {"id": 2, "file": "x.wav", "error": "bad", "final": False}},
         "failed   #2 x.wav: bad, will retry"),
        ({"type": "memory_critical", "data": {"level": "critical", "percent": 93.4}},
         "memory   critical (93 % used)"),
        ({"type": "update_available", "data": {"version": "1.2.0"}}, "update   1.2.0 is available"),
        ({"type": "paused", "data": {}}, "paused"),
        ({"type": "job_cancelled", "data": {"id": 4, "file": "y.wav", "was": "running"}},
         "cancelled #4 y.wav"),
        ({"type": "job_done", "data": "junk"}, "done     #None a file"),
    ],
)
def test_event_lines(event: dict[str, Any], line: str) -> None:
    assert render.render_event(event) == line
