"""OS notifications through plyer, with the backend named in the log.

plyer picks its Linux backend silently (dbus-python, else notify-send, else
nothing); a user whose notifications never appear needs to know which one
was used. A missing notification server must not stop the tray: the first
failure is logged as a warning, later ones only at debug level.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

from tray.notifier import Notification
from voxtrald import _platform

log = logging.getLogger(__name__)

APP_NAME = "Voxtral"
_URGENCY = {"low": 0, "normal": 1, "critical": 2}


def detect_backend() -> str:
    """Which path plyer will take on this machine, in words for the log."""
    fixed = _platform.notification_backend()
    if fixed is not None:
        return fixed
    try:
        import dbus  # noqa: F401
    except ImportError:
        if shutil.which("notify-send"):
            return "notify-send"
        return "none"
    return "D-Bus (dbus-python)"


class DesktopNotifier:
    def __init__(self, icon_path: Path | None = None) -> None:
        self.icon_path = icon_path
        self.backend = detect_backend()
        self._failed_once = False
        self.sent = 0
        if self.backend == "none":
            log.warning(
                "no notification backend: install dbus-python (pip) or notify-send "
                "(libnotify-bin); the tray runs without notifications"
            )
        else:
            log.info("notifications via %s", self.backend)

    def send(self, note: Notification) -> bool:
        if self.backend == "none":
            return False
        kwargs: dict[str, Any] = {
            "title": note.title,
            "message": note.message,
            "app_name": APP_NAME,
            "app_icon": str(self.icon_path) if self.icon_path else "",
            "timeout": 10,
        }
        try:
            if self.backend.startswith("D-Bus"):
                import dbus

                kwargs["hints"] = {"urgency": dbus.Byte(_URGENCY.get(note.urgency, 1))}
            from plyer import notification

            notification.notify(**kwargs)
        except Exception as exc:
            level = logging.DEBUG if self._failed_once else logging.WARNING
            log.log(level, "notification not shown (%s): %s", self.backend, exc)
            self._failed_once = True
            return False
        self.sent += 1
        log.info("notified: %s", note.title)
        return True
