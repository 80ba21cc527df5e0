"""Linux: systemd user units, plus an XDG autostart entry for the tray.

The daemon is a `Type=notify` user service: systemd counts it as started only
once it says READY=1 (its socket answers) and restarts it when it stops
pinging the watchdog. The tray is bound to `graphical-session.target`, which
GNOME and KDE reach on login and stop on logout. Desktops that do not run
their session under systemd (Xfce, MATE, most window managers) never reach
that target, so the tray also gets an XDG autostart entry; it carries
`X-systemd-skip=true` so that on systemd-managed sessions the generator skips
it and the tray does not start twice.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path

from voxtrald.service._common import (
    DAEMON,
    MARKER,
    TRAY,
    Executables,
    Runner,
    ServiceError,
    ServiceFile,
    ask,
)

DAEMON_UNIT = "voxtrald.service"
TRAY_UNIT = "voxtral-tray.service"
AUTOSTART = "voxtral-tray.desktop"
GRAPHICAL = "graphical-session.target"
# sd_booted(3): this folder exists only when systemd is the init system.
BOOTED_MARKER = Path("/run/systemd/system")
PROJECT_URL = "https://github.com/debrockb/transcribe-voxtral"


def _config_home() -> Path:
    raw = os.environ.get("XDG_CONFIG_HOME", "")
    return Path(raw) if os.path.isabs(raw) else Path.home() / ".config"


def unit_dir() -> Path:
    return _config_home() / "systemd" / "user"


def autostart_dir() -> Path:
    return _config_home() / "autostart"


def quote_exec(argv: Sequence[str]) -> str:
    """An ExecStart= command line: quoted words, '%' and '$' kept literal."""
    words = []
    for arg in argv:
        word = arg.replace("%", "%%").replace("$", "$$")
        if not word or any(c in word for c in ' \t"\'\\;'):
            word = '"' + word.replace("\\", "\\\\").replace('"', '\\"') + '"'
        words.append(word)
    return " ".join(words)


def quote_desktop_exec(argv: Sequence[str]) -> str:
    """An Exec= key of a .desktop file (Desktop Entry spec, "The Exec key")."""
    words = []
    for arg in argv:
        word = arg.replace("%", "%%")
        if any(c in word for c in ' \t\n"\'\\><~|&;$*?#()`'):
            escaped = "".join("\\" + c if c in '"`$\\' else c for c in word)
            # The .desktop value level unescapes backslashes once more.
            word = '"' + escaped.replace("\\", "\\\\") + '"'
        words.append(word)
    return " ".join(words)


def daemon_unit(command: Sequence[str]) -> str:
    return f"""\
# {MARKER}
[Unit]
Description=Voxtral transcription daemon
Documentation={PROJECT_URL}

[Service]
# READY=1 is sent once the control socket answers; WATCHDOG=1 while healthy.
Type=notify
NotifyAccess=main
ExecStart={quote_exec([*command, "run"])}
Restart=on-failure
RestartSec=5s
WatchdogSec=30s
# Loading a large model can take a while before the socket is up.
TimeoutStartSec=120s
TimeoutStopSec=30s
# The daemon ends its transcription worker itself; whatever is left gets killed.
KillMode=mixed
Environment=PYTHONUNBUFFERED=1
StandardOutput=journal
StandardError=journal
SyslogIdentifier=voxtrald
NoNewPrivileges=yes

[Install]
WantedBy=default.target
"""


def tray_unit(command: Sequence[str]) -> str:
    return f"""\
# {MARKER}
[Unit]
Description=Voxtral tray notifier
Documentation={PROJECT_URL}
PartOf=graphical-session.target
After=graphical-session.target voxtrald.service

[Service]
ExecStart={quote_exec(command)}
Restart=on-failure
RestartSec=5s
StandardOutput=journal
StandardError=journal
SyslogIdentifier=voxtral-tray

[Install]
WantedBy=graphical-session.target
"""


def autostart_entry(command: Sequence[str]) -> str:
    return f"""\
# {MARKER}
[Desktop Entry]
Type=Application
Name=Voxtral
GenericName=Transcription status
Comment=Shows what the Voxtral transcription daemon is doing
Exec={quote_desktop_exec(command)}
Icon=audio-input-microphone
Terminal=false
Categories=Utility;
X-GNOME-Autostart-enabled=true
X-systemd-skip=true
"""


class SystemdUser:
    name = "linux"

    def files(self, exes: Executables, target_dir: Path | None, tray: bool) -> list[ServiceFile]:
        units = target_dir or unit_dir()
        files = [ServiceFile(units / DAEMON_UNIT, daemon_unit(exes.daemon), "daemon unit")]
        if tray:
            files.append(ServiceFile(units / TRAY_UNIT, tray_unit(exes.tray), "tray unit"))
            files.append(
                ServiceFile(
                    (target_dir or autostart_dir()) / AUTOSTART,
                    autostart_entry(exes.tray),
                    "tray autostart entry",
                )
            )
        return files

    def check(self) -> None:
        systemctl = shutil.which("systemctl")
        if not systemctl:
            raise ServiceError(
                "systemd not found (no 'systemctl' on PATH), so there is no service manager "
                "to start voxtrald; add 'voxtrald run' to your session's startup programs "
                "instead, or use --no-enable to write the unit files anyway"
            )
        if not BOOTED_MARKER.is_dir():
            raise ServiceError(
                "systemd is not running as this machine's service manager "
                f"({BOOTED_MARKER} is missing); add 'voxtrald run' to your session's startup "
                "programs instead, or use --no-enable to write the unit files anyway"
            )
        if not ask([systemctl, "--user", "show", "--property=Version"]):
            raise ServiceError(
                "cannot reach your systemd user manager (no user bus: is this a login session? "
                "over ssh, run 'loginctl enable-linger $USER' first, and check that "
                "XDG_RUNTIME_DIR and DBUS_SESSION_BUS_ADDRESS are set); "
                "or use --no-enable to write the unit files only"
            )

    def activate(self, runner: Runner, files: list[ServiceFile], changed: bool) -> list[str]:
        units = [f.path.name for f in files if f.path.suffix == ".service"]
        systemctl = ["systemctl", "--user"]
        if changed:
            runner.run([*systemctl, "daemon-reload"], "systemd could not reload its units")
        if not all(runner.query([*systemctl, "--quiet", "is-enabled", u]) for u in units):
            runner.run([*systemctl, "enable", *units], "systemd could not enable the units")
        notes: list[str] = []
        for unit in units:
            if unit == TRAY_UNIT:
                session = runner.query([*systemctl, "--quiet", "is-active", GRAPHICAL])
                if session is False:
                    notes.append("the tray starts with your next graphical login")
                    continue
            active = runner.query([*systemctl, "--quiet", "is-active", unit])
            if changed and active:
                runner.run([*systemctl, "restart", unit], f"{unit} failed to restart")
            elif not active:
                runner.run([*systemctl, "start", unit], f"{unit} failed to start; see "
                           f"'journalctl --user -u {unit}'")
        return notes

    def deactivate(self, runner: Runner, files: list[ServiceFile]) -> None:
        units = [f.path.name for f in files if f.path.suffix == ".service"]
        runner.run(["systemctl", "--user", "disable", "--now", *units],
                   "systemd could not stop and disable the units")

    def after_remove(self, runner: Runner) -> None:
        runner.run(["systemctl", "--user", "daemon-reload"], "systemd could not reload its units")

    def where_logs_go(self) -> str:
        return "logs: journalctl --user -u voxtrald -f"


PLATFORM = SystemdUser()

__all__ = ["DAEMON", "PLATFORM", "TRAY", "autostart_entry", "daemon_unit", "tray_unit"]
