"""Starting the daemon again after an update or rollback was prepared.

Three ways, by who started us: under the trial supervisor, exit with
EXIT_RESTART and it starts the launcher in its own process; under a service
manager (systemd, launchd), exit with EXIT_RESTART too and let the manager
restart the service (its unit starts the launcher); in a terminal, replace
this process with the launcher, so the terminal keeps its daemon.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from voxtrald import _platform
from voxtrald.install.layout import InstallRoot, detect

log = logging.getLogger("voxtrald.install")

EXIT_RESTART = 75  # EX_TEMPFAIL: "try again", which a service manager restarts
SUPERVISOR_ENV = "VOXTRAL_SUPERVISOR_PID"
# Our systemd unit is Type=notify, so systemd gives the daemon NOTIFY_SOCKET; launchd
# names the job in XPC_SERVICE_NAME (a Terminal shell has "0" there, not our label).
LAUNCHD_LABEL = "io.github.debrockb.voxtrald"


def launcher_path(root: InstallRoot) -> Path:
    return _platform.launcher(root.path, "voxtrald", True, "")[0]


def how() -> str:
    """"supervisor", "service" or "exec": how this process restarts itself."""
    if os.environ.get(SUPERVISOR_ENV) == str(os.getppid()):
        return "supervisor"
    if os.environ.get("NOTIFY_SOCKET") or os.environ.get("XPC_SERVICE_NAME") == LAUNCHD_LABEL:
        return "service"
    return "exec"


def relaunch(args: list[str]) -> int:
    """After a clean stop: the exit code to leave with, or this process becomes the launcher."""
    running = detect()
    mode = how()
    if mode != "exec" or running.root is None:
        log.info("exiting for a restart (%s)", mode)
        return EXIT_RESTART
    launcher = launcher_path(running.root)
    log.info("starting %s again", launcher)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(launcher, [str(launcher), *args])
    return EXIT_RESTART  # not reached
