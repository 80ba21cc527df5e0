"""`voxtrald status --watch` against the real daemon: live progress, events, a restart, Ctrl-C."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import DATA, DaemonProc
from tests.support.waiting import wait_for
from voxtrald.client import render
from voxtrald.client.watch import WatchState, frame

pytestmark = [pytest.mark.timeout(180)]


class Watcher:
    def __init__(self, d: DaemonProc, *extra: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "voxtrald", "status", "--watch", "--socket", str(d.socket),
             *extra],
            env=d.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def text(self) -> str:
        return "\n".join(self.lines)

    def wait(self, needle: str, timeout: float = 60) -> None:
        wait_for(lambda: needle in self.text(), timeout, f"{needle!r} in the watch output")


@pytest.mark.e2e
def test_watch_follows_a_job_a_restart_and_stops_cleanly(
    daemon_factory: Callable[..., DaemonProc],
) -> None:
    d = daemon_factory()
    w = Watcher(d)
    try:
        w.wait("Watching (Ctrl-C to stop)", 30)
        assert ": idle" in w.text()
        d.drop(DATA / "story.flac")
        w.wait("Current: #1 story.flac")
        w.wait("done     #1 story.flac")
        assert any(line.lstrip().startswith("[") and line.rstrip().endswith("%")
                   or "ETA" in line for line in w.lines), w.text()  # the progress bar
        assert any(line.startswith("Memory:  normal") for line in w.lines)

        d.stop()
        w.wait("voxtrald not reachable")
        d.start()
        w.wait("the daemon restarted")
        w.wait("the daemon answers again")
        w.proc.send_signal(signal.SIGINT)
        assert w.proc.wait(15) == 0
        assert w.proc.stderr is not None and "Traceback" not in w.proc.stderr.read()
    finally:
        if w.proc.poll() is None:
            w.proc.kill()
            w.proc.wait()


@pytest.mark.e2e
def test_watch_json_lines_and_sigterm(daemon_factory: Callable[..., DaemonProc]) -> None:
    import json

    d = daemon_factory()
    w = Watcher(d, "--json")
    try:
        wait_for(lambda: w.lines, 30, "a first line")
        assert json.loads(w.lines[0])["state"] == "idle"
        w.proc.send_signal(signal.SIGTERM)
        assert w.proc.wait(15) == 0
    finally:
        if w.proc.poll() is None:
            w.proc.kill()


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
         "memory   critical (93% used)"),
        ({"type": "update_available", "data": {"version": "1.2.0"}}, "update   1.2.0 is available"),
        ({"type": "paused", "data": {}}, "paused"),
        ({"type": "job_done", "data": "junk"}, "done     #None a file"),
    ],
)
def test_event_lines(event: dict[str, Any], line: str) -> None:
    assert render.render_event(event) == line
