"""Start and stop a private X display and D-Bus session bus for one test."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

REQUIRED = ("Xvfb", "dbus-daemon")


def missing_binaries() -> list[str]:
    return [b for b in REQUIRED if shutil.which(b) is None]


def desktop_marks(timeout: float) -> list[pytest.MarkDecorator]:
    """What every test on the private desktop carries: its marker and its one skip."""
    return [
        pytest.mark.desktop,
        pytest.mark.timeout(timeout),
        pytest.mark.skipif(
            bool(missing_binaries()),
            reason=f"needs {', '.join(missing_binaries())} (apt: xvfb dbus) for the tray desktop",
        ),
    ]


@dataclass
class Desktop:
    display: str
    bus_address: str
    pids: list[int]

    def env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        env = dict(os.environ if base is None else base)
        env.pop("WAYLAND_DISPLAY", None)
        env["DISPLAY"] = self.display
        env["DBUS_SESSION_BUS_ADDRESS"] = self.bus_address
        env["NO_AT_BRIDGE"] = "1"  # no accessibility bus to look for
        return env

    def stop(self) -> None:
        for pid in self.pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)


def start_desktop(tmp: Path) -> Desktop:
    """Xvfb on a free display number (chosen by Xvfb itself) and a private session bus."""
    read_fd, write_fd = os.pipe()
    xvfb = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "800x600x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    number = b""
    deadline = time.monotonic() + 30
    with os.fdopen(read_fd, "rb") as pipe:
        while not number.endswith(b"\n") and time.monotonic() < deadline:
            chunk = pipe.read(1)
            if not chunk:
                break
            number += chunk
    if not number.strip():
        xvfb.kill()
        raise RuntimeError("Xvfb did not report a display number")
    out = subprocess.run(
        ["dbus-daemon", "--session", "--fork", "--print-address=1", "--print-pid=1", "--nopidfile"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout.split()
    address, bus_pid = out[0], int(out[1])
    return Desktop(f":{number.decode().strip()}", address, [xvfb.pid, bus_pid])
