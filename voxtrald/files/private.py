"""One rule for the folders only this user may change: state, models, staged updates, installs.

A folder holds private things (the job store, verification stamps, verified
wheels, the programs a launcher starts) only if nobody else can change it or
what it holds. So a private folder is:

- owned by the user running us (not merely writable by them),
- not a link (someone could point it elsewhere later),
- closed to the group and others (0700): created so, tightened to 0700 when it
  is ours but looser (an older version made it 0755), refused otherwise,
- reached through folders that only the user or root can change, or that are
  sticky like /tmp (where nobody may rename another user's entry).

A folder that breaks the rule in a way we may not fix (another user's, a
link) is refused with a NotPrivate that says how to fix it. Hand-written: the
standard library has the stat calls but no such rule, and neither does
platformdirs. Where files have no Unix modes (Windows) the checks are skipped;
a profile folder there is private already.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

from voxtrald import _platform

log = logging.getLogger("voxtrald")

FOLDER_MODE = 0o700
FILE_MODE = 0o600


class NotPrivate(Exception):
    """A folder or file that others could change; the message says how to fix it."""


def _check_ancestors(folder: Path, uid: int, what: str) -> None:
    """Every existing folder above `folder` is ours or root's, or others may not rename in it."""
    for above in reversed(folder.parents):
        try:
            st = above.lstat()
        except FileNotFoundError:
            return
        if st.st_uid not in (uid, 0):
            raise NotPrivate(f"the {what} {folder} lies inside {above}, which belongs to "
                             f"another user (uid {st.st_uid}); choose a folder of your own")
        if stat.S_ISLNK(st.st_mode):
            continue  # ours or root's; where it leads is checked through the real path
        mode = stat.S_IMODE(st.st_mode)
        if mode & 0o022 and not mode & stat.S_ISVTX:
            raise NotPrivate(f"the {what} {folder} lies inside {above}, which other users "
                             f"can change (mode {mode:04o}); choose another folder or make "
                             f"{above} private (chmod go-w)")


def private_folder(folder: Path, what: str, create: bool = True) -> Path:
    """`folder`, made or checked to be this user's alone; NotPrivate says why it is not.

    `what` names the folder in messages ("state folder"). With `create`, a
    missing folder (and its missing parents) is made 0700.
    """
    uid = _platform.current_uid()
    folder = folder.absolute()
    if uid is None or not _platform.HAS_FILE_MODES:
        if create:
            folder.mkdir(parents=True, exist_ok=True)
        return folder
    _check_ancestors(folder, uid, what)
    real_parent = Path(os.path.realpath(folder.parent))
    if real_parent != folder.parent:
        _check_ancestors(real_parent / folder.name, uid, what)
    try:
        st = folder.lstat()
    except FileNotFoundError:
        if not create:
            raise NotPrivate(f"the {what} {folder} does not exist") from None
        _make(folder)
        st = folder.lstat()
    if stat.S_ISLNK(st.st_mode):
        raise NotPrivate(f"the {what} {folder} is a link; replace it with a folder of your "
                         "own or choose another")
    if not stat.S_ISDIR(st.st_mode):
        raise NotPrivate(f"the {what} {folder} is not a folder")
    if st.st_uid != uid:
        raise NotPrivate(f"the {what} {folder} belongs to another user (uid {st.st_uid}); "
                         "remove it (as that user) or choose another folder")
    mode = stat.S_IMODE(st.st_mode)
    if mode & 0o077:
        try:
            _chmod_nofollow(folder, FOLDER_MODE, os.O_DIRECTORY)
        except OSError as exc:
            raise NotPrivate(f"the {what} {folder} is open to other users (mode {mode:04o}) "
                             f"and cannot be closed ({exc.strerror}); run chmod 700 "
                             f"{folder}") from None
        log.warning("the %s %s was open to other users (mode %04o); made it 0700",
                    what, folder, mode)
    return folder


def _make(folder: Path) -> None:
    missing = []
    here = folder
    while not os.path.lexists(here):
        missing.append(here)
        if here.parent == here:
            break
        here = here.parent
    for path in reversed(missing):
        try:
            path.mkdir(mode=FOLDER_MODE)
        except FileExistsError:
            continue
        os.chmod(path, FOLDER_MODE)  # mkdir's mode is filtered by the umask


def is_private_file(path: Path) -> bool:
    """Whether `path` is a plain file of this user's that nobody else may write."""
    uid = _platform.current_uid()
    try:
        st = path.lstat()
    except OSError:
        return False
    if not stat.S_ISREG(st.st_mode):
        return False
    if uid is None or not _platform.HAS_FILE_MODES:
        return True
    return st.st_uid == uid and not stat.S_IMODE(st.st_mode) & 0o022


def owned_by_me(path: Path) -> bool:
    """Whether `path` (a file, folder or link, not followed) is this user's and closed to writes
    by others (a link's own mode means nothing, so only its owner counts)."""
    uid = _platform.current_uid()
    try:
        st = path.lstat()
    except OSError:
        return False
    if uid is None or not _platform.HAS_FILE_MODES:
        return True
    if st.st_uid != uid:
        return False
    return stat.S_ISLNK(st.st_mode) or not stat.S_IMODE(st.st_mode) & 0o022


def tighten_file(path: Path, mode: int = FILE_MODE) -> None:
    """Give an existing file of ours `mode` (0600); a missing one is left missing."""
    if not _platform.HAS_FILE_MODES:
        return
    try:
        st = path.lstat()
    except FileNotFoundError:
        return
    if stat.S_ISREG(st.st_mode) and stat.S_IMODE(st.st_mode) != mode:
        _chmod_nofollow(path, mode, 0)


def _chmod_nofollow(path: Path, mode: int, flags: int) -> None:
    """chmod through a descriptor opened without following a link (Linux has no lchmod)."""
    fd = os.open(path, os.O_RDONLY | flags | getattr(os, "O_NOFOLLOW", 0))
    try:
        _platform.set_mode(fd, mode)
    finally:
        os.close(fd)
