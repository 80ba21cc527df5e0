"""The real daemon speaks sd_notify the way a Type=notify unit with WatchdogSec expects."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest


class NotifySocket:
    """What systemd's manager would receive from the unit's main process."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.received: list[tuple[float, str]] = []

    def next(self, timeout: float) -> str | None:
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(4096).decode()
        except TimeoutError:
            return None
        self.received.append((time.monotonic(), data))
        return data

    def wait_for(self, field: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            message = self.next(left)
            if message is not None and field in message.splitlines():
                return message
        raise AssertionError(f"no {field} within {timeout} s; got {self.received}")


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[NotifySocket]:
    listener = NotifySocket(tmp_path / "notify.sock")
    yield listener
    listener.sock.close()


def test_ready_after_the_socket_answers_then_watchdog_pings_then_stopping(
    daemon_factory: Callable[..., Any], notify_socket: NotifySocket
) -> None:
    # WatchdogSec=1s: the daemon should ping about every 0.5 s.
    daemon = daemon_factory(
        env={"NOTIFY_SOCKET": str(notify_socket.path), "WATCHDOG_USEC": "1000000"},
        wait_ready=False,
    )
    try:
        notify_socket.wait_for("READY=1", timeout=90)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n--- daemon log ---\n{daemon.log()[-4000:]}") from None
    # The moment systemd hears READY=1 it starts units ordered after us: the
    # socket must already answer.
    status, body = daemon.api("GET", "/api/health", timeout=5)
    assert status == 200, body

    # Four pings in a row; their pace (half of WATCHDOG_USEC, never a flood) is the unit
    # test's (tests/unit/service/test_packaging_sdnotify.py), read off the pauses asked for.
    for _ in range(4):
        notify_socket.wait_for("WATCHDOG=1", timeout=30)

    assert daemon.stop() == 0
    notify_socket.wait_for("STOPPING=1", timeout=5)


def test_without_notify_socket_the_daemon_runs_as_before(
    daemon_factory: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    monkeypatch.delenv("WATCHDOG_USEC", raising=False)
    daemon = daemon_factory()
    assert daemon.api("GET", "/api/health")[0] == 200
    assert daemon.stop() == 0
