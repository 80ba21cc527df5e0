"""voxtral-tray: the icon, its menu and the notifications, wired to the daemon.

pystray is imported lazily: on Linux its import needs a display and fails
with an X error rather than ImportError, and the user deserves one sentence
("no graphical session") instead of a traceback. The icon runs on the main
thread (required on macOS); polling runs on a worker thread and pushes
changes to the icon, which pystray marshals to its own loop.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tray import icon as icon_art
from tray import statefile, view
from tray.client import TrayClient
from tray.controller import Controller
from tray.notifier import Settings, TrayState
from tray.notify import DesktopNotifier
from voxtrald import _platform, exit_codes
from voxtrald.config import Config, ConfigError
from voxtrald.config import load as load_config

log = logging.getLogger("voxtral-tray")

NO_DISPLAY = (
    "voxtral-tray needs a graphical session: no display is available "
    "(DISPLAY / WAYLAND_DISPLAY unset or unreachable). "
    "Start it from your desktop session or its autostart entry."
)


class NoDisplay(Exception):
    """The tray cannot show an icon here; main() turns this into a message and exit 1."""


def import_pystray() -> Any:
    if not _platform.has_display():
        raise NoDisplay(NO_DISPLAY)
    try:
        import pystray
    except Exception as exc:  # Xlib raises its own errors, not ImportError
        raise NoDisplay(f"{NO_DISPLAY} ({type(exc).__name__}: {exc})") from exc
    return pystray


class TrayUI:
    """Copies the view model onto a pystray icon; holds no decisions."""

    def __init__(self, pystray: Any, controller: Controller) -> None:
        self.pystray = pystray
        self.controller = controller
        self._entries = {e.key: e for e in view.menu(controller.state)}
        self._look: view.IconLook | None = None
        first = view.icon_look(controller.state)
        self.icon = pystray.Icon(
            "voxtral-tray",
            icon=icon_art.render(first),
            title=view.tooltip(controller.state),
            menu=self._build_menu(),
        )
        self._look = first
        backend = type(self.icon).__module__.rsplit(".", 1)[-1].lstrip("_")
        log.info("tray icon via pystray %s backend", backend)
        if not getattr(self.icon, "HAS_MENU", True):
            log.warning(
                "the %s tray backend has no menu; install PyGObject and "
                "gir1.2-ayatanaappindicator3-0.1 for the full tray",
                backend,
            )

    def _action(self, fn: Callable[[], None]) -> Callable[[Any, Any], None]:
        """Menu clicks arrive on the UI loop; network work goes to a thread."""

        def handler(_icon: Any, _item: Any) -> None:
            threading.Thread(target=fn, daemon=True, name="tray-action").start()

        return handler

    def _item(self, key: str, action: Callable[[Any, Any], None] | None) -> Any:
        return self.pystray.MenuItem(
            lambda _item: self._entries[key].text,
            action or (lambda _icon, _item: None),
            enabled=lambda _item: self._entries[key].enabled,
            visible=lambda _item: self._entries[key].visible,
        )

    def _build_menu(self) -> Any:
        c = self.controller
        actions: dict[str, Callable[[Any, Any], None] | None] = {
            "status": None,
            "memory": None,
            "job": None,
            "pause_resume": self._action(c.toggle_pause),
            "open_inbox": self._action(lambda: c.open_folder("inbox")),
            "open_transcripts": self._action(lambda: c.open_folder("transcripts")),
            "check_updates": self._action(c.check_updates),
            "open_release": self._action(c.open_release_page),
            "skip_version": self._action(c.skip_version),
            "dismiss_memory": self._action(c.dismiss_memory),
            "quit": lambda _icon, _item: self.quit(),
        }
        items = []
        for key in view.MENU_KEYS:
            if key.startswith("-"):
                items.append(self.pystray.Menu.SEPARATOR)
            else:
                items.append(self._item(key, actions[key]))
        return self.pystray.Menu(*items)

    def refresh(self, state: TrayState) -> None:
        entries = {e.key: e for e in view.menu(state)}
        # Rebuilding the menu renumbers its D-Bus items; do it only when it changed.
        menu_changed = entries != self._entries
        self._entries = entries
        look = view.icon_look(state)
        if look != self._look:
            self._look = look
            self.icon.icon = icon_art.render(look)
        title = view.tooltip(state)
        if title != self.icon.title:
            self.icon.title = title
        if menu_changed:
            self.icon.update_menu()

    def quit(self) -> None:
        self.controller.stop()
        self.icon.stop()

    def run(self) -> None:
        def setup(icon: Any) -> None:
            icon.visible = True
            self.controller.on_change = self.refresh
            self._entries = {}
            self.refresh(self.controller.state)
            threading.Thread(target=self.controller.run, daemon=True, name="tray-poll").start()

        self.icon.run(setup=setup)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="voxtral-tray",
        description="Tray icon and notifications for the voxtrald transcription daemon.",
    )
    parser.add_argument("--socket", metavar="PATH", help="the daemon's control socket")
    parser.add_argument("--config", metavar="FILE", type=Path, help="the voxtral config file")
    parser.add_argument(
        "--state-file",
        metavar="FILE",
        type=Path,
        help=f"where announced versions are remembered (default: ${statefile.ENV_VAR} "
        "or the user state dir)",
    )
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING"])
    return parser.parse_args(argv)


def load_settings(args: argparse.Namespace) -> Config:
    """The config file with --socket on top as a flag: `cfg.socket_path()` then finds
    the socket by the daemon's own rule (flag > VOXTRAL_SOCKET > [api] socket > default)."""
    return load_config(args.config, {"api.socket": args.socket})


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=args.log_level, format="%(asctime)s voxtral-tray %(levelname)s %(message)s"
    )
    try:
        cfg = load_settings(args)
    except ConfigError as exc:
        print(f"voxtral-tray: {exc}", file=sys.stderr)
        return exit_codes.USAGE
    try:
        pystray = import_pystray()
    except NoDisplay as exc:
        print(f"voxtral-tray: {exc}", file=sys.stderr)
        return exit_codes.ERROR
    state_file = args.state_file or statefile.default_path()
    client = TrayClient(cfg.socket_path())
    icon_path = Path(tempfile.gettempdir()) / f"voxtral-notify-{os.getpid()}.png"
    try:
        icon_art.render(view.IconLook("idle"), 128).save(icon_path)
    except OSError:
        icon_path = None  # type: ignore[assignment]
    notifications = DesktopNotifier(icon_path)
    controller = Controller(
        client,
        Settings(
            notify_job_failed=cfg.tray.notify_job_failed,
            notify_back_to_normal=cfg.tray.notify_back_to_normal,
        ),
        notifications.send,
        state_file,
        cfg.tray.poll_seconds,
    )
    log.info("daemon socket %s, state file %s", client.socket_path, state_file)
    try:
        ui = TrayUI(pystray, controller)
        ui.run()
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()
        if icon_path is not None:
            icon_path.unlink(missing_ok=True)
    return exit_codes.OK
