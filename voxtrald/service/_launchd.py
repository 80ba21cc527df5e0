"""macOS: two launchd user agents in ~/Library/LaunchAgents.

The daemon is kept alive (restarted when it exits with an error, like
systemd's Restart=on-failure); the tray runs at load, in the Aqua (GUI)
session only. launchd does not expand '~' and does not create log folders,
so the plists carry absolute paths and the install creates
~/Library/Logs/Voxtral, where Console.app finds the logs.
"""

from __future__ import annotations

import plistlib
import shutil
from pathlib import Path
from typing import Any

from voxtrald import _platform
from voxtrald.service._common import (
    MARKER,
    Executables,
    Runner,
    ServiceError,
    ServiceFile,
    ask,
)

DAEMON_LABEL = "io.github.debrockb.voxtrald"
TRAY_LABEL = "io.github.debrockb.voxtral-tray"


def agents_dir() -> Path:
    return Path.home() / "Library" / "LaunchAgents"


def logs_dir() -> Path:
    return Path.home() / "Library" / "Logs" / "Voxtral"


def _plist(job: dict[str, Any]) -> str:
    body = plistlib.dumps(job, sort_keys=True).decode("utf-8")
    # plistlib writes no comments; put the marker after the document type.
    marker = f"<!-- {MARKER} -->\n"
    return body.replace("<plist ", marker + "<plist ", 1)


def daemon_plist(command: tuple[str, ...], logs: Path) -> str:
    return _plist(
        {
            "Label": DAEMON_LABEL,
            "ProgramArguments": [*command, "run"],
            "RunAtLoad": True,
            # Restart after a crash, not after a clean exit.
            "KeepAlive": {"SuccessfulExit": False},
            "ThrottleInterval": 10,
            "EnvironmentVariables": {"PYTHONUNBUFFERED": "1"},
            "StandardOutPath": str(logs / "voxtrald.log"),
            "StandardErrorPath": str(logs / "voxtrald.log"),
        }
    )


def tray_plist(command: tuple[str, ...], logs: Path) -> str:
    return _plist(
        {
            "Label": TRAY_LABEL,
            "ProgramArguments": list(command),
            "RunAtLoad": True,
            "LimitLoadToSessionType": "Aqua",
            "ProcessType": "Interactive",
            "StandardOutPath": str(logs / "voxtral-tray.log"),
            "StandardErrorPath": str(logs / "voxtral-tray.log"),
        }
    )


def _domain() -> str:
    uid = _platform.current_uid()
    return f"gui/{501 if uid is None else uid}"


class LaunchdAgents:
    name = "macos"

    def files(self, exes: Executables, target_dir: Path | None, tray: bool) -> list[ServiceFile]:
        agents = target_dir or agents_dir()
        daemon = daemon_plist(exes.daemon, logs_dir())
        files = [ServiceFile(agents / f"{DAEMON_LABEL}.plist", daemon, "daemon agent")]
        if tray:
            tray_job = tray_plist(exes.tray, logs_dir())
            files.append(ServiceFile(agents / f"{TRAY_LABEL}.plist", tray_job, "tray agent"))
        return files

    def check(self) -> None:
        launchctl = shutil.which("launchctl")
        if not launchctl:
            raise ServiceError(
                "launchd not found (no 'launchctl' on PATH); use --no-enable to write the "
                "agent files only"
            )
        if not ask([launchctl, "print", _domain()]):
            raise ServiceError(
                f"no GUI login session ({_domain()}) to load agents into; run this from a "
                "Terminal in your desktop session, or use --no-enable to write the files only"
            )

    def activate(self, runner: Runner, files: list[ServiceFile], changed: bool) -> list[str]:
        if not runner.dry_run:
            logs_dir().mkdir(parents=True, exist_ok=True)
        domain = _domain()
        for item in files:
            label = item.path.name.removesuffix(".plist")
            loaded = runner.query(["launchctl", "print", f"{domain}/{label}"])
            if loaded and not changed:
                continue
            if loaded:
                # launchd keeps the old definition until the job is unloaded.
                runner.run(["launchctl", "bootout", f"{domain}/{label}"],
                           f"launchd could not unload {label}")
            # A job the user once disabled stays disabled across loads; clear that.
            runner.run(["launchctl", "enable", f"{domain}/{label}"],
                       f"launchd could not enable {label}")
            runner.run(["launchctl", "bootstrap", domain, str(item.path)],
                       f"launchd could not load {item.path}")
        return []

    def deactivate(self, runner: Runner, files: list[ServiceFile]) -> None:
        domain = _domain()
        for item in files:
            label = item.path.name.removesuffix(".plist")
            if runner.query(["launchctl", "print", f"{domain}/{label}"]) is not False:
                runner.run(["launchctl", "bootout", f"{domain}/{label}"],
                           f"launchd could not unload {label}")

    def after_remove(self, runner: Runner) -> None:
        return None

    def where_logs_go(self) -> str:
        return f"logs: {logs_dir() / 'voxtrald.log'} (also in Console.app)"


PLATFORM = LaunchdAgents()
