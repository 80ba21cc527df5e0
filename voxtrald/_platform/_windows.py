"""Windows: msvcrt locks, TerminateProcess, no permission bits, no Unix sockets.

Nothing here imports a POSIX-only module, so the whole daemon package can be
imported on Windows; a test selects this module on Linux to prove it.
"""

from __future__ import annotations

import errno
import os
import signal
import socket
import tempfile
from pathlib import Path

NAME = "windows"
MAX_SOCKET_PATH = 0  # the API uses its loopback TCP transport here
HAS_FILE_MODES = False
_STILL_ACTIVE = 259


class LockHeld(OSError):
    """Another process holds the lock."""


def try_lock(fd: int) -> None:
    import msvcrt

    try:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
    except OSError as exc:
        if exc.errno in (errno.EACCES, errno.EDEADLK, errno.EAGAIN):
            raise LockHeld(exc.errno, "locked by another process") from exc
        raise


def unlock(fd: int) -> None:
    import msvcrt

    os.lseek(fd, 0, os.SEEK_SET)
    msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)  # type: ignore[attr-defined]


def current_uid() -> int | None:
    return None


def current_ids() -> tuple[int, frozenset[int]] | None:
    return None  # no permission bits: the file system decides when a file is opened


def hard_kill_group(pid: int) -> None:
    # No process groups to signal; TerminateProcess ends the process itself.
    os.kill(pid, signal.SIGTERM)


def peer_uid(sock: socket.socket) -> int | None:
    return None


def die_with_parent() -> None:
    """No such kernel feature; the worker checks its parent between segments instead."""


def hard_kill(pid: int) -> None:
    # os.kill with any signal but CTRL_*_EVENT is TerminateProcess on Windows.
    os.kill(pid, signal.SIGTERM)


def describe_exit(code: int | None) -> str:
    if code is None:
        return "is still running"
    return f"exited with code {code}"


def set_mode(fd: int, mode: int) -> None:
    """Windows has no permission bits to set; a user's profile folder is private already."""


def name_max(folder: Path) -> int:
    """NTFS and FAT with long names allow 255 UTF-16 units, never fewer than 255 UTF-8 bytes."""
    return 255


def runtime_dir(app: str) -> Path:
    return Path(tempfile.gettempdir()) / app


def procfs_root() -> Path | None:
    return None


def has_display() -> bool:
    return True


def open_command() -> str | None:
    return None


def open_path(path: str) -> bool:
    os.startfile(path)  # type: ignore[attr-defined]
    return True


def notification_backend() -> str | None:
    return "Windows balloon (plyer)"


def launcher(root: Path, program: str, supervised: bool, marker: str) -> tuple[Path, str]:
    """The stable launcher of `program` in a side-by-side install: (its path, its text).

    A .cmd file; an update being tried is not supervised here (no trial
    supervisor on Windows yet), `current` is always started as it points.
    """
    del supervised
    text = (f"@echo off\r\nrem {marker}\r\n"
            f'"{root}\\current\\Scripts\\{program}.exe" %*\r\n')
    return root / "bin" / f"{program}.cmd", text
