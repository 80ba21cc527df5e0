"""What the Unix-likes share: flock, permission bits, signals, a tmp runtime folder."""

from __future__ import annotations

import errno
import fcntl
import os
import shutil
import signal
import socket
import subprocess
import tempfile
from pathlib import Path

NAME = "posix"
# sockaddr_un.sun_path on the BSDs and macOS is 104 bytes with its NUL.
MAX_SOCKET_PATH = 103
HAS_FILE_MODES = True


class LockHeld(OSError):
    """Another process holds the lock."""


def try_lock(fd: int) -> None:
    """Take an exclusive lock on an open file without waiting; LockHeld if someone has it."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
            raise LockHeld(exc.errno, "locked by another process") from exc
        raise


def unlock(fd: int) -> None:
    fcntl.flock(fd, fcntl.LOCK_UN)


def current_uid() -> int | None:
    return os.getuid()


def current_ids() -> tuple[int, frozenset[int]] | None:
    """This process's user and all of its groups, for judging file permission bits."""
    return os.getuid(), frozenset((os.getgid(), *os.getgroups()))


def hard_kill_group(pid: int) -> None:
    """End a process group (started with a session of its own) at once."""
    os.killpg(pid, signal.SIGKILL)


def peer_uid(sock: socket.socket) -> int | None:
    """The uid at the other end of a Unix socket, where the OS tells (getpeereid)."""
    return None


def die_with_parent() -> None:
    """Nothing portable exists; the worker's own parent check covers these systems."""


def hard_kill(pid: int) -> None:
    """End a process at once, no clean-up: for a worker that ignores being asked."""
    os.kill(pid, signal.SIGKILL)


def describe_exit(code: int | None) -> str:
    """A child's exit status in the user's words, with the likely cause of a SIGKILL."""
    if code is None:
        return "is still running"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        hint = " (likely out of memory)" if -code == signal.SIGKILL else ""
        return f"was killed by {name}{hint}"
    return f"exited with code {code}"


def set_mode(fd: int, mode: int) -> None:
    os.fchmod(fd, mode)


def name_max(folder: Path) -> int:
    """Longest file name, in bytes, that the filesystem holding `folder` accepts.

    Asked of the nearest existing folder, since the target may not exist yet;
    255 (the common limit) when the filesystem will not say.
    """
    probe = folder
    while True:
        try:
            value = os.pathconf(probe, "PC_NAME_MAX")
        except (OSError, ValueError):
            if probe.parent == probe:
                return 255
            probe = probe.parent
            continue
        return value if value > 0 else 255


def runtime_dir(app: str) -> Path:
    """The per-user folder for the socket: XDG_RUNTIME_DIR/APP, else a per-uid tmp folder."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and Path(runtime).is_dir():
        return Path(runtime) / app
    return Path(tempfile.gettempdir()) / f"{app}-{os.getuid()}"


def procfs_root() -> Path | None:
    return None


def has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def open_command() -> str | None:
    """The desktop's "open this" program (xdg-open), or None when it is missing."""
    return shutil.which("xdg-open")


def open_path(path: str) -> bool:
    """Open a file, folder or URL as the desktop would; False when nothing can."""
    opener = open_command()
    if not opener:
        return False
    subprocess.Popen([opener, path], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                     start_new_session=True)
    return True


def notification_backend() -> str | None:
    """The notification path when fixed by the OS; None lets the caller probe D-Bus."""
    return None


_LAUNCHER_SH = """#!/bin/sh
# {marker}
# Starts the version {root}/current points at. While an update is being tried,
# `run` goes through the supervisor of the version named in {root}/pending.
root={root_q}
if [ "$1" = run ] && [ -f "$root/pending" ]; then
    IFS= read -r v < "$root/pending" || v=
    case "$v" in
        ''|*[!0-9A-Za-z.+-]*) ;;
        *) if [ -x "$root/versions/$v/bin/python" ]; then
               exec "$root/versions/$v/bin/python" -m voxtrald.install.trial --root "$root" -- "$@"
           fi ;;
    esac
fi
exec "$root/current/bin/{program}" "$@"
"""
_LAUNCHER_SH_PLAIN = """#!/bin/sh
# {marker}
# Starts the version {root}/current points at.
exec {root_q}/current/bin/{program} "$@"
"""


def launcher(root: Path, program: str, supervised: bool, marker: str) -> tuple[Path, str]:
    """The stable launcher of `program` in a side-by-side install: (its path, its text)."""
    import shlex

    template = _LAUNCHER_SH if supervised else _LAUNCHER_SH_PLAIN
    text = template.format(marker=marker, root=root, root_q=shlex.quote(str(root)),
                           program=program)
    return root / "bin" / program, text
