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
import logging.handlers
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

import platformdirs

from tray import clipboard, iconfile, portal, starter, statefile, view, x11
from tray import icon as icon_art
from tray.client import TrayClient
from tray.controller import Controller
from tray.notices import Command
from tray.notifier import Settings, TrayState
from tray.notify import DesktopNotifier
from tray.prefs import NotifyPrefs
from voxtrald import _platform, exit_codes, paths
from voxtrald.config import Config, ConfigError
from voxtrald.config import load as load_config
from voxtrald.files import textsafe
from voxtrald.states import MemoryLevel

log = logging.getLogger("voxtral-tray")
LOG_FORMAT = "%(asctime)s voxtral-tray %(levelname)s %(message)s"

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
        self._entries = view.flatten(view.menu(controller.state, controller.settings.can_choose))
        # What each entry asked for when its label was last drawn: a click does that, even
        # if the entry has changed since (the queue moved on under the pointer).
        self._shown: dict[str, Command | None] = {}
        self._look: view.IconLook | None = None
        first = view.icon_look(controller.state)
        # The X11 backend writes the title as Latin-1 and loses the icon's alpha channel;
        # the others take any text and a round icon.
        self.backend = backend_name(pystray)
        self._latin1 = self.backend == "xorg"
        self.icon = pystray.Icon(
            "voxtral-tray",
            icon=self._render(first),
            title=self._title(controller.state),
            menu=self._build_menu(),
        )
        self._look = first
        backend = self.backend
        log.info("tray icon via pystray %s backend", backend)
        if not getattr(self.icon, "HAS_MENU", True):
            log.warning(
                "the %s tray backend has no menu; install PyGObject and "
                "gir1.2-ayatanaappindicator3-0.1 for the full tray",
                backend,
            )

    def _action(self, fn: Callable[[], object]) -> Callable[[Any, Any], None]:
        """Menu clicks arrive on the UI loop; network work goes to a thread."""

        def handler(_icon: Any, _item: Any) -> None:
            threading.Thread(target=fn, daemon=True, name="tray-action").start()

        return handler

    def _render(self, look: view.IconLook) -> Any:
        return icon_art.render(look, opaque=self._latin1)

    def _title(self, state: TrayState) -> str:
        text = view.tooltip(state, time.monotonic())
        return view.latin1_title(text) if self._latin1 else text

    def _item(self, entry: view.MenuEntry, action: Callable[[Any, Any], None] | Any) -> Any:
        key = entry.key
        checked = None
        if entry.checked is not None:
            checked = lambda _item: bool(self._entries[key].checked)  # noqa: E731
        return self.pystray.MenuItem(
            lambda _item: self._label(key),
            action,
            checked=checked,
            enabled=lambda _item: self._entries[key].enabled,
            visible=lambda _item: self._entries[key].visible,
        )

    def _label(self, key: str) -> str:
        """The entry's text, read as the menu is drawn; what a click will do is noted then."""
        entry = self._entries[key]
        self._shown[key] = entry.command
        return entry.text

    def _command(self, key: str) -> Callable[[Any, Any], None]:
        """A click on an entry whose target depends on the state (a recent transcript, a
        file of the queue): the target it had when the menu was drawn."""

        def run() -> None:
            command = self._shown.get(key, self._entries[key].command)
            if command is not None:
                self.controller.run_command(command)

        return self._action(run)

    def _actions(self) -> dict[str, Callable[[Any, Any], None]]:
        c = self.controller
        actions = {
            "pause_resume": self._action(c.toggle_pause),
            "open_inbox": self._action(lambda: c.open_folder("inbox")),
            "open_transcripts": self._action(lambda: c.open_folder("transcripts")),
            "open_failed": self._action(c.open_failed),
            "start_daemon": self._action(c.start_daemon),
            "stop_daemon": self._action(c.stop_daemon),
            "about": self._action(c.about),
            "transcribe_file": self._action(c.transcribe_files),
            "check_updates": self._action(c.check_updates),
            "open_release": self._action(c.open_release_page),
            "install_update": self._command("install_update"),
            "skip_version": self._action(c.skip_version),
            "dismiss_memory": self._action(c.dismiss_memory),
            "open_log": self._action(c.open_log),
            "quit": lambda _icon, _item: self.quit(),
        }
        for key in (*view.RECENT_KEYS, *view.CANCEL_KEYS):
            actions[key] = self._command(key)
        for key in view.NOTIFY_KEYS:
            kind = key.removeprefix("notify_")
            actions[key] = self._action(partial(c.toggle_notifications, kind))
        return actions

    def _build(self, entries: list[view.MenuEntry], actions: dict[str, Any]) -> Any:
        items = []
        for entry in entries:
            if entry.key.startswith("-"):
                items.append(self.pystray.Menu.SEPARATOR)
            elif entry.children:
                items.append(self._item(entry, self._build(list(entry.children), actions)))
            else:
                items.append(self._item(entry, actions.get(entry.key, lambda _i, _t: None)))
        return self.pystray.Menu(*items)

    def _build_menu(self) -> Any:
        state, can_choose = self.controller.state, self.controller.settings.can_choose
        menu = self._build(view.menu(state, can_choose), self._actions())
        if self._latin1:
            # No menu on X11: a click runs the default item, which shows the status.
            click = self.pystray.MenuItem("Voxtral", self._action(self.controller.show_status),
                                          default=True, visible=False)
            menu = self.pystray.Menu(click, *menu.items)
        return menu

    def refresh(self, state: TrayState) -> None:
        entries = view.flatten(view.menu(state, self.controller.settings.can_choose))
        # Rebuilding the menu renumbers its D-Bus items; do it only when it changed.
        menu_changed = entries != self._entries
        self._entries = entries
        look = view.icon_look(state)
        if look != self._look:
            self._look = look
            self.icon.icon = self._render(look)
        title = self._title(state)
        if title != self.icon.title:
            self.icon.title = title
        if menu_changed:
            log.debug("menu rebuilt: %s changed", ", ".join(
                sorted(k for k in entries.keys() | self._entries.keys()
                       if entries.get(k) != self._entries.get(k))) or "nothing")
            self.icon.update_menu()

    def quit(self) -> None:
        self.controller.stop()
        self.icon.stop()

    def run(self) -> None:
        def setup(icon: Any) -> None:
            icon.visible = True
            if self._latin1:
                x11.accept_clicks(icon)
            self.controller.on_change = self.refresh
            self._entries = {}
            self.refresh(self.controller.state)
            threading.Thread(target=self.controller.run, daemon=True, name="tray-poll").start()

        self.icon.run(setup=setup)


def backend_name(pystray: Any) -> str:
    """"appindicator", "gtk", "xorg", "darwin" or "win32": the backend pystray chose."""
    return str(pystray.Icon.__module__).rsplit(".", 1)[-1].lstrip("_")


def default_log_file() -> Path:
    return Path(platformdirs.user_log_dir(paths.APP, appauthor=False)) / "voxtral-tray.log"


def setup_logging(level: str, log_file: Path) -> Path | None:
    """Log to stderr and to a small rotating file (what "Open log" shows); the file's path."""
    logging.basicConfig(level=level, format=LOG_FORMAT)
    kept: Path | None = log_file
    try:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            log_file, maxBytes=1_000_000, backupCount=1, encoding="utf-8"
        )
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        logging.getLogger().addHandler(handler)
    except OSError as exc:
        log.warning("logging to stderr only: cannot write %s: %s", log_file, exc)
        kept = None
    textsafe.install()
    return kept


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
    parser.add_argument("--log-file", metavar="FILE", type=Path,
                        help="where the tray also logs (what Open log shows; default: the "
                        "user log dir's voxtral-tray.log)")
    return parser.parse_args(argv)


def load_settings(args: argparse.Namespace) -> Config:
    """The config file with --socket on top as a flag: `cfg.socket_path()` then finds
    the socket by the daemon's own rule (flag > VOXTRAL_SOCKET > [api] socket > default)."""
    return load_config(args.config, {"api.socket": args.socket})


def local_folders(cfg: Config) -> dict[str, str]:
    """The folders the config names, for the menu while the daemon is away (only those
    that exist are opened, by tray.desktop)."""
    p = cfg.paths
    return {"inbox": str(p.inbox), "transcripts": str(p.transcripts),
            "processed": str(p.processed), "failed": str(p.failed)}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    log_file = setup_logging(args.log_level, args.log_file or default_log_file())
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
    icon_path = iconfile.write(icon_art.render(view.IconLook("idle"), 128))
    critical_path = iconfile.write(
        icon_art.render(view.IconLook("idle", MemoryLevel.CRITICAL), 128),
        file_name="voxtral-critical.png", fresh=False)
    commands = CommandRelay()
    notifications = DesktopNotifier(icon_path, commands, critical_path)
    daemon_log = default_log_file().with_name("voxtrald.log")
    controller = Controller(
        client,
        Settings(notify_back_to_normal=cfg.tray.notify_back_to_normal,
                 can_copy=clipboard.available() is not None,
                 can_choose=portal.available()),
        notifications.send,
        state_file,
        cfg.tray.poll_seconds,
        NotifyPrefs(job_failed=cfg.tray.notify_job_failed),
        log_file,
        local_folders(cfg),
        partial(starter.start, args.config, args.socket, daemon_log),
        starter.stop,
    )
    controller.state = replace(controller.state, can_stop=starter.can_stop(None))
    commands.target = controller.run_command
    log.info("daemon socket %s, state file %s", client.socket_path, state_file)
    try:
        ui = TrayUI(pystray, controller)
        ui.run()
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()
        notifications.close()
        for written in (icon_path, critical_path):
            if written is not None:
                written.unlink(missing_ok=True)
    return exit_codes.OK


class CommandRelay:
    """Hands a notification's button to the controller, which exists only after the notifier."""

    def __init__(self) -> None:
        self.target: Callable[[Command], None] | None = None

    def __call__(self, command: Command) -> None:
        if self.target is not None:
            self.target(command)
