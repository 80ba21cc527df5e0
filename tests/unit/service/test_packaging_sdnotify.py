"""sd_notify on a real AF_UNIX datagram socket, the way systemd listens for it."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.waiting import Waits
from voxtrald.service import sdnotify


class Listener:
    """A NOTIFY_SOCKET stand-in: receives datagrams like systemd's manager."""

    def __init__(self, sock: socket.socket, env_value: str) -> None:
        self.sock = sock
        self.env_value = env_value

    def receive(self, timeout: float = 2.0) -> str | None:
        self.sock.settimeout(timeout)
        try:
            return self.sock.recv(4096).decode()
        except TimeoutError:
            return None


@pytest.fixture
def listener(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Listener]:
    path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    monkeypatch.setenv("NOTIFY_SOCKET", str(path))
    yield Listener(sock, str(path))
    sock.close()


def test_notify_sends_the_message(listener: Listener) -> None:
    assert sdnotify.notify("READY=1\nSTATUS=listening") is True
    assert listener.receive() == "READY=1\nSTATUS=listening"


def test_notify_to_an_abstract_socket(monkeypatch: pytest.MonkeyPatch) -> None:
    name = f"voxtral-test-{os.getpid()}-{time.monotonic_ns()}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(b"\0" + name.encode())
    monkeypatch.setenv("NOTIFY_SOCKET", "@" + name)
    try:
        assert sdnotify.notify("STOPPING=1")
        sock.settimeout(2)
        assert sock.recv(100) == b"STOPPING=1"
    finally:
        sock.close()


def test_notify_without_systemd_is_a_quiet_no(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    assert sdnotify.notify("READY=1") is False


@pytest.mark.parametrize("value", ["relative/path", "vsock:2:1234", ""])
def test_notify_ignores_addresses_it_cannot_use(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", value)
    assert sdnotify.notify("READY=1") is False


def test_notify_to_a_vanished_socket_does_not_raise(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "gone.sock"))
    assert sdnotify.notify("READY=1") is False


@pytest.mark.parametrize(
    ("usec", "pid", "expected"),
    [
        ("30000000", None, 30.0),
        ("500000", "self", 0.5),
        ("30000000", "other", None),
        ("30000000", "garbage", None),
        ("0", None, None),
        ("-5", None, None),
        ("soon", None, None),
        (None, None, None),
    ],
)
def test_watchdog_interval(
    monkeypatch: pytest.MonkeyPatch, usec: str | None, pid: str | None, expected: float | None
) -> None:
    for key, value in (("WATCHDOG_USEC", usec), ("WATCHDOG_PID", pid)):
        if value is None:
            monkeypatch.delenv(key, raising=False)
        else:
            value = {"self": str(os.getpid()), "other": str(os.getpid() + 1)}.get(value, value)
            monkeypatch.setenv(key, value)
    assert sdnotify.watchdog_interval() == expected


def test_watchdog_pings_at_half_the_interval(
    listener: Listener, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WATCHDOG_USEC", "400000")
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    dog = sdnotify.Watchdog(lambda: True)
    assert dog.period == pytest.approx(0.2)
    dog._stop = waits = Waits()
    assert dog.start()
    try:
        pings = [listener.receive() for _ in range(4)]
    finally:
        dog.stop()
    assert pings == ["WATCHDOG=1"] * 4
    # The first ping at once, then one after each wait of half the interval: never a
    # flood (no ping without a wait before it), never late (no longer wait).
    assert dog.pings >= 4 and len(waits.asked) >= 3
    assert waits.asked == [pytest.approx(0.2)] * len(waits.asked)


def test_watchdog_withholds_pings_while_unhealthy(listener: Listener) -> None:
    state = {"healthy": False}
    dog = sdnotify.Watchdog(lambda: state["healthy"], interval=0.2)
    dog.start()
    try:
        assert listener.receive(timeout=0.5) is None
        state["healthy"] = True
        assert listener.receive() == "WATCHDOG=1"
    finally:
        dog.stop()


def test_a_raising_health_check_counts_as_unhealthy(listener: Listener) -> None:
    def broken() -> bool:
        raise RuntimeError("probe failed")

    dog = sdnotify.Watchdog(broken, interval=0.1)
    dog.start()
    try:
        assert listener.receive(timeout=0.4) is None
    finally:
        dog.stop()


def test_watchdog_stops_promptly(listener: Listener) -> None:
    dog = sdnotify.Watchdog(interval=60)
    dog.start()
    assert listener.receive() == "WATCHDOG=1"
    thread = dog._thread
    dog.stop()  # it joins for 5 s at most: the 30 s wait must be cut short
    assert thread is not None and not thread.is_alive()
    assert listener.receive(timeout=0.2) is None


def test_watchdog_without_systemd_does_not_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WATCHDOG_USEC", raising=False)
    dog = sdnotify.Watchdog(lambda: True)
    assert not dog.enabled
    assert dog.start() is False
    dog.stop()
