"""Where the control API listens in the file system, claimed safely.

A 0700 folder of our own; a lock file held for the daemon's lifetime, so a
second daemon for the same socket fails with a clear message instead of
stealing it; a socket left by a crashed daemon replaced, anything else in its
place left alone.
"""

from __future__ import annotations

import logging
import os
import socket
import stat
from pathlib import Path

from voxtrald import _platform
from voxtrald.files.locks import AlreadyLocked, LockError, LockFile

log = logging.getLogger("voxtrald.api")


class ApiServerError(Exception):
    """The API cannot listen; the message is meant for the user."""


class AlreadyRunning(ApiServerError):
    """Another daemon holds the lock for this socket."""


def claim(lock: LockFile, what: Path) -> None:
    """Hold the lock beside the socket for the daemon's lifetime, or say who has it."""
    try:
        lock.acquire()
    except AlreadyLocked as exc:
        raise AlreadyRunning(
            f"another voxtrald (pid {exc.holder}) is already serving {what}; "
            "stop it first, or give this one its own --socket"
        ) from exc
    except LockError as exc:
        raise ApiServerError(str(exc)) from exc


def prepare_dir(folder: Path) -> None:
    """Our own 0700 folder for the socket: created, or checked without following links.

    Another user's folder (a pre-created /tmp/voxtral-UID, say), a link, or a
    folder others may write to would let someone else serve or replace our
    socket, so each is refused with what to do.
    """
    try:
        st = folder.lstat()
    except FileNotFoundError:
        try:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.chmod(folder, 0o700)
        except OSError as exc:
            raise ApiServerError(
                f"cannot create socket folder {folder}: {exc.strerror or exc}") from exc
        return
    if stat.S_ISLNK(st.st_mode):
        raise ApiServerError(f"socket folder {folder} is a link; remove it or choose another "
                             "--socket")
    if not stat.S_ISDIR(st.st_mode):
        raise ApiServerError(f"socket folder {folder} is not a folder")
    uid = _platform.current_uid()
    if uid is not None and st.st_uid not in (uid, 0):
        raise ApiServerError(f"socket folder {folder} belongs to another user "
                             f"(uid {st.st_uid}); choose another --socket")
    mode = stat.S_IMODE(st.st_mode)
    if mode & 0o022 and not mode & stat.S_ISVTX:
        # Others could remove our socket and put theirs in its place. A user's folder is
        # theirs to change, not ours: say how instead of changing it.
        raise ApiServerError(f"socket folder {folder} can be changed by other users "
                             f"(mode {mode:04o}); make it private (chmod 700) or choose "
                             "another --socket")


def replace_stale(path: Path) -> None:
    """Remove a socket a crashed daemon left; refuse anything that is not one."""
    try:
        st = path.lstat()
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(st.st_mode):
        raise ApiServerError(f"{path} exists and is not a socket; remove it or pick another")
    uid = _platform.current_uid()
    if uid is not None and st.st_uid not in (uid, 0):
        raise ApiServerError(f"{path} belongs to another user (uid {st.st_uid}); "
                             "choose another --socket")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        try:
            probe.connect(os.fspath(path))
        except OSError:
            log.info("replacing stale socket %s", path)
            try:
                path.unlink(missing_ok=True)
            except OSError as exc:
                raise ApiServerError(f"cannot replace the stale socket {path}: "
                                     f"{exc.strerror or exc}") from exc
            return
    raise AlreadyRunning(f"another process is already listening on {path}")
