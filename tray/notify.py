"""Showing a Notification on the desktop, with its buttons where the server has them.

Three paths, chosen once at start and named once in the log:
- D-Bus (jeepney), on Linux and other freedesktop systems: buttons when the
  notification server lists "actions" in GetCapabilities (asked at every
  notification, since the server can change), plain text otherwise; a
  pressed button (ActionInvoked) becomes the notification's Command, handed
  to `on_command`;
- notify-send, where no session bus can be reached: plain text;
- plyer, where the platform layer names it (macOS, Windows): plain text.

A missing notification server must not stop the tray: the first failure is
logged as a warning, later ones only at debug level.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

from tray.dbus_notify import DBusNotifications
from tray.notices import Command, Notification, default_action
from voxtrald import _platform

log = logging.getLogger(__name__)

APP_NAME = "Voxtral"
_URGENCY = {"low": 0, "normal": 1, "critical": 2}
# Notifications whose buttons are remembered; older ones can no longer be acted on.
MAX_PENDING = 64
# How long a press on an id not yet known is kept for it. One that overtakes Notify's
# reply arrives within milliseconds; an older one belongs to another notification (a
# restarted server numbers its notifications from 1 again) and must never run ours.
EARLY_SECONDS = 5.0
DBUS = "D-Bus (jeepney)"


def wire_actions(note: Notification) -> tuple[tuple[tuple[str, str], ...], dict[str, Command]]:
    """The (key, label) pairs to send, and the Command behind each key.

    The action a click on the body does is sent *as* the button it duplicates, under
    the key "default": servers that draw "default" as a button (xfce4-notifyd) then
    show each button once, and servers that hide it (GNOME, KDE) run it on a click.
    Sending it beside the button would show that button twice on the former.
    """
    default = default_action(note)
    pairs = []
    commands: dict[str, Command] = {}
    for action in note.actions:
        key = "default" if action is default else action.key
        pairs.append((key, action.label))
        commands[key] = action.command
    return tuple(pairs), commands


class DesktopNotifier:
    def __init__(
        self,
        icon_path: Path | None = None,
        on_command: Callable[[Command], None] = lambda _c: None,
        critical_icon_path: Path | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.icon_path = icon_path
        self.critical_icon_path = critical_icon_path or icon_path
        self.on_command = on_command
        self._clock = clock  # for the age of an early press
        self._failed_once = False
        self._server: tuple[str, bool] | None = None  # the server last used, with buttons?
        self._pending: OrderedDict[int, dict[str, Command]] = OrderedDict()
        # Buttons pressed on a notification whose id Notify has not returned yet: the
        # press can overtake the reply, since signals and replies are read by
        # different threads. Kept until the id is known (bounded: other applications'
        # ids land here too, as some servers broadcast ActionInvoked).
        self._early: OrderedDict[int, tuple[str, float]] = OrderedDict()
        self._lock = threading.Lock()
        self.sent = 0
        self._dbus: DBusNotifications | None = None
        fixed = _platform.notification_backend()
        if fixed is not None:
            self.backend = fixed
        else:
            self.backend = self._pick_freedesktop()
        if self.backend == "none":
            log.warning(
                "no notification path: no D-Bus session bus and no notify-send "
                "(libnotify-bin); the tray runs without notifications"
            )
        else:
            log.info("notifications via %s", self.backend)

    def _pick_freedesktop(self) -> str:
        dbus = DBusNotifications(on_action=self._on_action, on_closed=self._on_closed)
        try:
            dbus.connect()
        except Exception as exc:  # any failure means "not this path"
            log.info("no D-Bus session bus for notifications: %s", exc)
        else:
            self._dbus = dbus
            return DBUS
        return "notify-send" if shutil.which("notify-send") else "none"

    # -- buttons ---------------------------------------------------------------------------

    def _on_action(self, nid: int, key: str) -> None:
        with self._lock:
            commands = self._pending.get(nid)
            if commands is None:
                self._early[nid] = (key, self._clock())
                while len(self._early) > MAX_PENDING:
                    self._early.popitem(last=False)
                log.debug("action %s on notification %d: not ours, or not yet", key, nid)
                return
        self._run(commands.get(key), key, nid)

    def _run(self, command: Command | None, key: str, nid: int) -> None:
        if command is None:
            log.debug("action %s on notification %d: nothing to do", key, nid)
            return
        log.info("notification action: %s", key)
        threading.Thread(target=self.on_command, args=(command,), daemon=True,
                         name="notify-action").start()

    def _on_closed(self, nid: int) -> None:
        with self._lock:
            self._pending.pop(nid, None)
            self._early.pop(nid, None)

    # -- sending ---------------------------------------------------------------------------

    def send(self, note: Notification) -> bool:
        if self.backend == "none":
            return False
        try:
            if self._dbus is not None:
                self._send_dbus(note)
            elif self.backend == "notify-send":
                self._send_notify_send(note)
            else:
                self._send_plyer(note)
        except Exception as exc:  # any backend failure means "not shown"
            level = logging.DEBUG if self._failed_once else logging.WARNING
            log.log(level, "notification not shown (%s): %s", self.backend, exc)
            self._failed_once = True
            return False
        self.sent += 1
        log.info("notified: %s", note.title)
        return True

    def _send_dbus(self, note: Notification) -> None:
        dbus = self._dbus
        assert dbus is not None
        caps = dbus.capabilities()
        with_actions = "actions" in caps
        server = dbus.server_information()
        if (server, with_actions) != self._server:
            self._server = (server, with_actions)
            log.info("notification server %s: %s", server,
                     "with buttons" if with_actions else "no buttons, plain notifications")
        actions: tuple[tuple[str, str], ...] = ()
        commands: dict[str, Command] = {}
        if with_actions and note.actions:
            actions, commands = wire_actions(note)
        icon = self.critical_icon_path if note.urgency == "critical" else self.icon_path
        nid = dbus.notify(
            APP_NAME,
            note.title,
            note.message,
            str(icon) if icon else "",
            actions,
            _URGENCY.get(note.urgency, 1),
        )
        if actions:
            with self._lock:
                self._pending[nid] = commands
                while len(self._pending) > MAX_PENDING:
                    self._pending.popitem(last=False)
                early = self._early.pop(nid, None)
            if early is not None and self._clock() - early[1] <= EARLY_SECONDS:
                self._run(commands.get(early[0]), early[0], nid)

    def _send_notify_send(self, note: Notification) -> None:
        cmd = ["notify-send", "--app-name", APP_NAME, "--urgency", note.urgency]
        if self.icon_path:
            cmd += ["--icon", str(self.icon_path)]
        subprocess.run([*cmd, "--", note.title, note.message], check=True, timeout=10,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def _send_plyer(self, note: Notification) -> None:
        from plyer import notification

        notification.notify(
            title=note.title,
            message=note.message,
            app_name=APP_NAME,
            app_icon=str(self.icon_path) if self.icon_path else "",
            timeout=10,
        )

    def close(self) -> None:
        if self._dbus is not None:
            self._dbus.close()
