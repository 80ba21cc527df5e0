"""Writing files so that a reader, a crash or a full disk never leaves half of one.

Every writer in the project goes through here: the data goes to a uniquely
named hidden temp file in the target's own folder (so the rename cannot cross
filesystems), is flushed to disk, renamed over the target, and the folder
itself is synced so the rename survives a power cut. On any error the temp
file is removed, so a full disk leaves nothing behind.

Temp files are created by `mkstemp`: a fresh name, opened with O_EXCL and
mode 0600, so nobody can plant a link there or read a secret before its mode
is final. They are named `.voxtral-tmp-XXXXXXXX.tmp`: hidden, and ending in
`.tmp`, so no folder watcher (a service manager's unit folder, a sync client,
our own inbox) mistakes one for the finished file. Only a killed process can
leave one behind; `remove_stale` sweeps a folder of them.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from voxtrald import _platform
from voxtrald.inbox.walk import walk_files

TEMP_PREFIX = ".voxtral-tmp-"
TEMP_SUFFIX = ".tmp"

Staged = tuple[Path, Path]  # (temp file, the target it will become)


def _umask_file_mode() -> int:
    umask = os.umask(0)  # the only portable way to read it; done once, at import
    os.umask(umask)
    return 0o666 & ~umask


#: The mode a file the user creates gets (0666 less the umask): for files that
#: are the user's documents rather than our private state.
USER_FILE_MODE = _umask_file_mode()
#: Folders the daemon creates for the user's documents: theirs alone.
PRIVATE_FOLDER_MODE = 0o700


def ensure_folder(folder: Path, mode: int = PRIVATE_FOLDER_MODE) -> None:
    """Create `folder` and any missing parents with `mode`; existing ones keep theirs."""
    missing: list[Path] = []
    here = folder
    while not here.is_dir():
        missing.append(here)
        if here.parent == here:
            break
        here = here.parent
    for path in reversed(missing):
        try:
            path.mkdir(mode=mode)
        except FileExistsError:
            if not path.is_dir():
                raise


def stage(target: Path, data: bytes | str, mode: int | None = None) -> Path:
    """Write `data` to a fresh temp file beside `target`, synced; returns the temp's path.

    `mode` None keeps mkstemp's private 0600. Use `commit` to rename it into
    place; several staged files can be committed together so a set (a job's
    transcripts) appears at once. The temp is gone again if anything fails.
    """
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd, name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX, dir=target.parent)
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as fh:
            if mode is not None:
                _platform.set_mode(fh.fileno(), mode)
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def sync_folder(folder: Path) -> None:
    """Make a rename in `folder` durable; a no-op where folders cannot be opened (Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


def commit(staged: Iterable[Staged], placed: list[Path] | None = None) -> None:
    """Rename each (temp, target) into place, then sync the folders they are in.

    If a rename fails, the temps not yet renamed are removed and the error
    propagates; targets already renamed stay (each of them is whole) and are
    appended to `placed` as they land, so a caller that wants all or nothing
    can undo them.
    """
    pairs = list(staged)
    done = 0
    try:
        for tmp, target in pairs:
            os.replace(tmp, target)
            done += 1
            if placed is not None:
                placed.append(target)
    except BaseException:
        discard(pairs[done:])
        raise
    for folder in {target.parent for _tmp, target in pairs}:
        sync_folder(folder)


def write_atomic(target: Path, data: bytes | str, mode: int | None = None) -> None:
    """Replace `target` with `data` in one step: readers see the old file or the new one."""
    commit([(stage(target, data, mode), target)])


def discard(staged: Iterable[Staged]) -> None:
    """Remove staged temps that will not be committed."""
    for tmp, _target in staged:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


def remove_stale(folder: Path) -> int:
    """Delete temps that a killed process left in `folder` and below; how many went.

    A temp is never a finished file, so removing it loses nothing. Links are
    not followed, so a link in the tree cannot lead the sweep elsewhere.
    """
    removed = 0
    if not folder.is_dir():
        return 0
    files, _too_deep = walk_files(folder, recursive=True)
    for path in files:
        if path.name.startswith(TEMP_PREFIX):
            with contextlib.suppress(OSError):
                path.unlink()
                removed += 1
    return removed
