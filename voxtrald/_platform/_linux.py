"""Linux: SO_PEERCRED, PR_SET_PDEATHSIG and /proc, on top of the POSIX common ground."""

from __future__ import annotations

import ctypes
import signal
import socket
import struct
from pathlib import Path

from voxtrald._platform._posix import (
    HAS_FILE_MODES,
    LockHeld,
    current_ids,
    current_uid,
    describe_exit,
    hard_kill,
    hard_kill_group,
    has_display,
    launcher,
    name_max,
    notification_backend,
    open_command,
    open_path,
    runtime_dir,
    set_mode,
    try_lock,
    unlock,
)

NAME = "linux"
MAX_SOCKET_PATH = 107  # sun_path is 108 bytes with its NUL
_PR_SET_PDEATHSIG = 1

__all__ = [
    "current_ids", "hard_kill_group",
    "HAS_FILE_MODES", "LockHeld", "current_uid", "describe_exit", "hard_kill", "has_display",
    "launcher", "name_max", "notification_backend", "open_command", "open_path", "runtime_dir",
    "set_mode", "try_lock", "unlock",
]


def peer_uid(sock: socket.socket) -> int | None:
    """The uid of the process at the other end of a Unix socket (SO_PEERCRED)."""
    if sock.family != socket.AF_UNIX:
        return None
    # struct ucred: pid_t (signed), uid_t and gid_t (unsigned: "nobody" may be 4294967294).
    size = struct.calcsize("i2I")
    try:
        _pid, uid, _gid = struct.unpack("i2I", sock.getsockopt(socket.SOL_SOCKET,
                                                               socket.SO_PEERCRED, size))
    except (OSError, struct.error):
        return None
    return int(uid)


def die_with_parent() -> None:
    """Have the kernel SIGKILL this process when its parent dies, even by SIGKILL."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL))
    except (OSError, AttributeError):
        pass  # best effort: the worker also checks its parent between segments


def procfs_root() -> Path | None:
    return Path("/proc")
