"""Windows: one .cmd in the user's Startup folder that starts both programs.

A per-user Startup entry needs no administrator rights and no service
account, and it runs inside the user's desktop session, which the tray needs.
Both programs run under pythonw.exe so no console window stays open: the
console scripts voxtrald.exe and voxtral-tray.exe are console programs.
`start ""` returns at once, so the daemon does not hold up the tray.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from voxtrald.service._common import (
    DAEMON,
    MARKER,
    TRAY,
    Executables,
    Runner,
    ServiceFile,
    module_command,
)

STARTUP_NAME = "Voxtral.cmd"
_CMD_SPECIAL = set(' \t&|<>^()",;=')


def startup_dir() -> Path:
    appdata = os.environ.get("APPDATA") or str(Path.home() / "AppData" / "Roaming")
    return Path(appdata) / "Microsoft" / "Windows" / "Start Menu" / "Programs" / "Startup"


def gui_python(python: str) -> str:
    """pythonw.exe beside python.exe when there is one (it has no console)."""
    path = Path(python)
    if path.name.lower() == "python.exe":
        windowless = path.with_name("pythonw.exe")
        if windowless.is_file():
            return str(windowless)
    return python


def quote_cmd(argv: Sequence[str]) -> str:
    words = []
    for arg in argv:
        word = arg.replace("%", "%%")
        if not word or any(c in _CMD_SPECIAL for c in word):
            word = '"' + word.replace('"', '""') + '"'
        words.append(word)
    return " ".join(words)


def startup_script(python: str, tray: bool) -> str:
    pyw = gui_python(python)
    lines = [
        "@echo off",
        f"rem {MARKER}",
        "rem Starts the Voxtral transcription daemon and its tray at logon.",
        f"start \"\" /b {quote_cmd([*module_command(pyw, DAEMON), 'run'])}",
    ]
    if tray:
        lines.append(f"start \"\" /b {quote_cmd(module_command(pyw, TRAY))}")
    return "\r\n".join(lines) + "\r\n"


class WindowsStartup:
    name = "windows"

    def files(self, exes: Executables, target_dir: Path | None, tray: bool) -> list[ServiceFile]:
        folder = target_dir or startup_dir()
        return [
            ServiceFile(folder / STARTUP_NAME, startup_script(exes.python, tray), "startup entry")
        ]

    def check(self) -> None:
        return None  # the Startup folder needs no service manager

    def activate(self, runner: Runner, files: list[ServiceFile], changed: bool) -> list[str]:
        if not changed:
            return []
        # Start now rather than at the next logon. Only when something changed,
        # so a second install does not start a second daemon.
        runner.run(["cmd.exe", "/c", str(files[0].path)], "could not start Voxtral")
        return []

    def deactivate(self, runner: Runner, files: list[ServiceFile]) -> None:
        return None

    def after_remove(self, runner: Runner) -> None:
        return None

    def where_logs_go(self) -> str:
        return (
            "the daemon runs without a console, so its log is not kept; run 'voxtrald run' "
            "in a terminal to watch it. Programs already running stop at sign-out."
        )


PLATFORM = WindowsStartup()

__all__ = ["PLATFORM", "TRAY", "startup_script"]
