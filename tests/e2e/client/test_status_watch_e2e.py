"""`voxtrald status --watch` against the real daemon: live progress, events, a restart, Ctrl-C.

The tests that start real processes; those that start none are in
tests/unit/client/test_status_watch.py.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import IO

import pytest

from tests.conftest import DATA, DaemonProc
from tests.support.waiting import wait_for

pytestmark = [pytest.mark.timeout(180)]


class Watcher:
    def __init__(self, d: DaemonProc, *extra: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "voxtrald", "status", "--watch", "--socket", str(d.socket),
             *extra],
            env=d.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        self.lines: list[str] = []
        self.errors: list[str] = []
        # Both pipes are drained as they fill: a full stderr pipe would block the watch.
        threading.Thread(target=self._read, args=(self.proc.stdout, self.lines),
                         daemon=True).start()
        threading.Thread(target=self._read, args=(self.proc.stderr, self.errors),
                         daemon=True).start()

    @staticmethod
    def _read(stream: IO[str] | None, into: list[str]) -> None:
        assert stream is not None
        for line in stream:
            into.append(line.rstrip("\n"))

    def ended(self, timeout: float) -> None:
        """The watch exited within `timeout` s; else what it printed, to say where it hung."""
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"the watch did not stop within {timeout} s; stdout tail:\n"
                                 + "\n".join(self.lines[-20:]) + "\nstderr:\n"
                                 + "\n".join(self.errors[-40:])) from None

    def text(self) -> str:
        return "\n".join(self.lines)

    def wait(self, needle: str, timeout: float = 60) -> None:
        wait_for(lambda: needle in self.text(), timeout, f"{needle!r} in the watch output")


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
        w.ended(15)
        assert w.proc.returncode == 0 and "Traceback" not in "\n".join(w.errors), w.errors[-5:]
    finally:
        if w.proc.poll() is None:
            w.proc.kill()
            w.proc.wait()


def test_watch_json_lines_and_sigterm(daemon_factory: Callable[..., DaemonProc]) -> None:
    import json

    d = daemon_factory()
    w = Watcher(d, "--json")
    try:
        wait_for(lambda: w.lines, 30, "a first line")
        assert json.loads(w.lines[0])["state"] == "idle"
        w.proc.send_signal(signal.SIGTERM)
        w.ended(15)
        assert w.proc.returncode == 0
    finally:
        if w.proc.poll() is None:
            w.proc.kill()
