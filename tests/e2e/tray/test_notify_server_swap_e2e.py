"""Notification servers that misbehave, each a real process on a private session bus.

A program queued for the notification name gets neither our notices nor our buttons.

On a private D-Bus session bus: a real notification server process owns
org.freedesktop.Notifications; an impostor process queues for the name (as
any program on the bus may) and, on every Notify it receives, presses the
notice's button at once. The server exits; the impostor inherits the name.
The tray's next notice must not reach it, and no button press may be taken.

A press that overtakes Notify's reply (signals and replies are read by
different threads) still runs the button's command; a press seconds older
than its id (a restarted server numbers from 1 again) never does.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from conftest import wait_for

from tray.dbus_notify import DBusNotifications, NotifyError
from tray.notices import Action, Command, Notification
from tray.notify import DesktopNotifier

pytestmark = pytest.mark.skipif(shutil.which("dbus-daemon") is None,
                                reason="needs dbus-daemon (apt: dbus) for a private bus")

SERVER = r"""
import sys
from jeepney import HeaderFields, new_method_return, new_signal, DBusAddress
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import open_dbus_connection, Proxy
NAME = "org.freedesktop.Notifications"
PATH = "/org/freedesktop/Notifications"
role = sys.argv[1]
conn = open_dbus_connection("SESSION")
bus = Proxy(message_bus, conn)
flags = 4 if role == "real" else 0  # the impostor queues (no DO_NOT_QUEUE)
print(bus.RequestName(NAME, flags)[0], flush=True)
nid = 0
while True:
    msg = conn.receive()
    member = msg.header.fields.get(HeaderFields.member)
    if msg.header.message_type.name != "method_call":
        continue
    if member == "Notify":
        nid += 1
        emitter = DBusAddress(PATH, interface=NAME)
        if role == "hasty":  # the press reaches the client before Notify's reply
            conn.send(new_signal(emitter, "ActionInvoked", "us", (nid, "default")))
        conn.send(new_method_return(msg, "u", (nid,)))
        if role == "impostor":
            conn.send(new_signal(emitter, "ActionInvoked", "us", (nid, "install")))
        if role == "stale":  # a press on an id the server will give next
            conn.send(new_signal(emitter, "ActionInvoked", "us", (nid + 1, "default")))
        print("notified", nid, flush=True)
    elif member == "GetCapabilities":
        conn.send(new_method_return(msg, "as", (["actions", "body"],)))
    elif member == "GetServerInformation":
        conn.send(new_method_return(msg, "ssss", (role, "test", "1", "1.2")))
"""


@pytest.fixture
def private_bus(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    out = subprocess.run(["dbus-daemon", "--session", "--fork", "--print-address=1",
                          "--print-pid=1", "--nopidfile"], capture_output=True, text=True,
                         check=True, timeout=30).stdout.split()
    address, pid = out[0], int(out[1])
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
    yield address
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)


def _start(role: str, env: dict[str, str]) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", SERVER, role], stdout=subprocess.PIPE,
                            text=True, env=env)
    assert proc.stdout is not None
    reply = proc.stdout.readline().strip()
    assert reply in ("1", "2"), reply  # primary owner, or in the queue
    return proc


def test_an_impostor_that_inherits_the_name_gets_no_notice(private_bus: str) -> None:
    env = dict(os.environ, DBUS_SESSION_BUS_ADDRESS=private_bus)
    real = _start("real", env)
    impostor = _start("impostor", env)
    pressed: list[tuple[int, str]] = []
    notes = DBusNotifications(on_action=lambda nid, key: pressed.append((nid, key)))
    try:
        assert notes.notify("Voxtral", "Update 1.1.0", "ready", actions=(("install", "Install"),)
                            ) == 1
        real.kill()
        real.wait()
        owner_changed = []

        def impostor_owns() -> bool:
            try:
                notes.notify("Voxtral", "Update 1.2.0", "ready",
                             actions=(("install", "Install"),))
            except NotifyError as exc:
                owner_changed.append(str(exc))
                return "replaced by another program" in str(exc)
            return False

        wait_for(impostor_owns, 20, "the impostor to inherit the name")
        assert impostor.poll() is None
        assert pressed == []
    finally:
        notes.close()
        for proc in (real, impostor):
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert impostor.stdout is not None
    assert "notified" not in impostor.stdout.read()  # not one notice reached it


def test_a_press_that_overtakes_the_reply_still_runs_its_command(private_bus: str) -> None:
    env = dict(os.environ, DBUS_SESSION_BUS_ADDRESS=private_bus)
    hasty = _start("hasty", env)
    ran: list[Command] = []
    notifier = DesktopNotifier(on_command=ran.append)
    try:
        assert notifier.backend == "D-Bus (jeepney)"
        show = Command("show_error", 7)
        assert notifier.send(Notification("job_failed", "Transcription failed", "broken.wav",
                                          actions=(Action("show_error", "Show error", show),)))
        wait_for(lambda: ran, 10, "the early press to run its command")
        assert ran == [show]
    finally:
        notifier.close()
        hasty.kill()
        hasty.wait()


def test_a_press_older_than_its_notification_runs_nothing(
    private_bus: str, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="tray.notify")
    env = dict(os.environ, DBUS_SESSION_BUS_ADDRESS=private_bus)
    stale = _start("stale", env)
    ran: list[Command] = []
    now = [time.monotonic()]
    notifier = DesktopNotifier(on_command=ran.append, clock=lambda: now[0])
    buttons = (Action("show_error", "Show error", Command("show_error", 7)),)
    try:
        assert notifier.send(Notification("job_failed", "Transcription failed", "one.wav",
                                          actions=buttons))
        wait_for(lambda: any("on notification 2: not ours" in r.getMessage()
                             for r in caplog.records), 10, "the press on id 2 to arrive")
        now[0] += 60  # the press is a minute old when id 2 is given
        assert notifier.send(Notification("job_failed", "Transcription failed", "two.wav",
                                          actions=buttons))
        # A press kept for id 2 would have run within send(), which logs it before returning.
        assert not any("notification action" in r.getMessage() for r in caplog.records)
        assert ran == []
    finally:
        notifier.close()
        stale.kill()
        stale.wait()
