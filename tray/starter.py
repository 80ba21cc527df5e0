"""Starting the daemon from the tray: its service if one is installed, else `voxtrald run`.

A daemon the tray starts must outlive the tray (quitting the tray never stops
transcription), so it runs in a session of its own with its output in a log
file next to the tray's: that file is what "Open daemon log" shows, since the
daemon explains failures there. Where a systemd user unit is installed, the
service manager starts it instead, so there are never two daemons.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from voxtrald.service import _systemd

log = logging.getLogger(__name__)
# Kept so the handle is not collected while the daemon runs (it is never waited for).
_children: list[subprocess.Popen[bytes]] = []


@dataclass(frozen=True)
class Started:
    how: str  # "service" or "process"
    log_file: Path | None  # where its output goes, when the tray chose
    pid: int | None = None  # the process the tray started ("process" only)


def can_stop(started: Started | None) -> bool:
    """Whether the tray can stop the daemon: it started it, or a service manager runs it."""
    return started is not None or _systemd_unit()


def stop(started: Started | None) -> None:
    """Stop the daemon the way it was started; OSError (with the reason) when it cannot."""
    if started is not None and started.how == "process" and started.pid is not None:
        os.kill(started.pid, signal.SIGTERM)  # the daemon finishes its chunk and stops
        log.info("asked voxtrald (pid %d) to stop", started.pid)
        for child in [c for c in _children if c.pid == started.pid]:
            _children.remove(child)  # reaped once it ends, so no zombie is left behind
            threading.Thread(target=child.wait, daemon=True, name="reap-voxtrald").start()
        return
    if not _systemd_unit():
        raise OSError("this daemon was not started by the tray or a service")
    done = subprocess.run(["systemctl", "--user", "stop", _systemd.DAEMON_UNIT],
                          capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise OSError(f"systemd could not stop it: {done.stderr.strip() or done.returncode}")
    log.info("stopped %s through systemd", _systemd.DAEMON_UNIT)


def _systemd_unit() -> bool:
    """A voxtrald user unit is installed and systemctl can be asked to start it."""
    return shutil.which("systemctl") is not None and \
        (_systemd.unit_dir() / _systemd.DAEMON_UNIT).is_file()


def run_command(config: Path | None, socket: str | None) -> list[str]:
    cmd = [sys.executable, "-m", "voxtrald", "run"]
    if config is not None:
        cmd += ["--config", str(config)]
    if socket:
        cmd += ["--socket", socket]
    return cmd


def start(config: Path | None, socket: str | None, log_file: Path) -> Started:
    """Start the daemon detached; OSError (with the reason) when it cannot be started."""
    if _systemd_unit():
        done = subprocess.run(["systemctl", "--user", "start", _systemd.DAEMON_UNIT],
                              capture_output=True, text=True, timeout=30)
        if done.returncode == 0:
            log.info("started %s through systemd", _systemd.DAEMON_UNIT)
            return Started("service", None)
        log.warning("systemd could not start %s (%s); starting it directly",
                    _systemd.DAEMON_UNIT, done.stderr.strip() or done.returncode)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    cmd = run_command(config, socket)
    with log_file.open("ab") as out:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True,
                                close_fds=True, env=dict(os.environ))
    _children.append(proc)
    log.info("started voxtrald (pid %d), its log in %s", proc.pid, log_file)
    return Started("process", log_file, proc.pid)
