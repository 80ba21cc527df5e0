"""macOS: launchd's runtime folder, `open`, and the POSIX common ground."""

from __future__ import annotations

import socket
import struct
import subprocess
from pathlib import Path

import platformdirs

from voxtrald._platform._posix import (
    HAS_FILE_MODES,
    MAX_SOCKET_PATH,
    LockHeld,
    current_uid,
    describe_exit,
    die_with_parent,
    hard_kill,
    name_max,
    procfs_root,
    set_mode,
    try_lock,
    unlock,
)

NAME = "macos"
# LOCAL_PEERCRED (sys/un.h) with SOL_LOCAL = 0 returns a struct xucred.
_SOL_LOCAL = 0
_LOCAL_PEERCRED = 0x001

__all__ = [
    "HAS_FILE_MODES", "MAX_SOCKET_PATH", "LockHeld", "current_uid", "describe_exit",
    "die_with_parent", "hard_kill", "name_max", "procfs_root", "set_mode", "try_lock", "unlock",
]


def peer_uid(sock: socket.socket) -> int | None:
    """The peer's uid from LOCAL_PEERCRED (struct xucred: version, uid, ...)."""
    if sock.family != socket.AF_UNIX:
        return None
    try:
        raw = sock.getsockopt(_SOL_LOCAL, _LOCAL_PEERCRED, struct.calcsize("2I"))
        _version, uid = struct.unpack("2I", raw[: struct.calcsize("2I")])
    except (OSError, struct.error):
        return None
    return int(uid)


def runtime_dir(app: str) -> Path:
    # launchd agents get no TMPDIR: a fixed per-user folder keeps the daemon (started by
    # launchd) and a Terminal client looking at the same place.
    return Path(platformdirs.user_runtime_dir(app, appauthor=False))


def has_display() -> bool:
    return True


def open_command() -> str | None:
    return "open"


def open_path(path: str) -> bool:
    subprocess.Popen(["open", path], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                     start_new_session=True)
    return True


def notification_backend() -> str | None:
    return "macOS (plyer)"


