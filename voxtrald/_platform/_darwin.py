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
    current_ids,
    current_uid,
    describe_exit,
    die_with_parent,
    hard_kill,
    hard_kill_group,
    launcher,
    name_max,
    procfs_root,
    set_mode,
    try_lock,
    unlock,
)

NAME = "macos"
# sys/un.h: LOCAL_PEERCRED is option 0x001 at level SOL_LOCAL (0); it fills a struct xucred
# (sys/ucred.h): u_int cr_version; uid_t cr_uid; short cr_ngroups; gid_t cr_groups[16].
# The whole struct is asked for (76 bytes) and its version checked before the uid is trusted.
_SOL_LOCAL = 0
_LOCAL_PEERCRED = 0x001
_XUCRED = struct.Struct("2Ih16I")
_XUCRED_VERSION = 0

__all__ = [
    "current_ids", "hard_kill_group",
    "HAS_FILE_MODES", "MAX_SOCKET_PATH", "LockHeld", "current_uid", "describe_exit",
    "die_with_parent", "hard_kill", "launcher", "name_max", "procfs_root", "set_mode", "try_lock",
    "unlock",
]


def peer_uid(sock: socket.socket) -> int | None:
    """The peer's effective uid from LOCAL_PEERCRED; None when the OS does not say."""
    if sock.family != socket.AF_UNIX:
        return None
    try:
        raw = sock.getsockopt(_SOL_LOCAL, _LOCAL_PEERCRED, _XUCRED.size)
    except OSError:
        return None
    return uid_from_xucred(raw)


def uid_from_xucred(raw: bytes) -> int | None:
    """cr_uid of a struct xucred; None if it is short or of a layout we do not know."""
    try:
        version, uid = struct.unpack_from("2I", raw)
    except struct.error:
        return None
    return int(uid) if version == _XUCRED_VERSION else None


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


