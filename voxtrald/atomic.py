"""Writing files so that a reader, a crash or a full disk never leaves half of one.

Every writer in the project goes through here: the data goes to a uniquely
named hidden temp file in the target's own folder (so the rename cannot cross
filesystems), is flushed to disk, renamed over the target, and the folder
itself is synced so the rename survives a power cut. On any error the temp
file is removed, so a full disk leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from voxtrald import _platform

TEMP_PREFIX = ".voxtral-tmp-"


def stage(target: Path, data: bytes | str, mode: int | None = None) -> Path:
    """Write `data` to a fresh temp file beside `target`, synced; returns the temp's path.

    Use `commit` to rename it into place; several staged files can be committed
    together so a set (a job's transcripts) appears all at once.
    """
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd, name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=target.suffix, dir=target.parent)
    tmp = Path(name)
    try:
        if mode is not None:
            _platform.set_mode(fd, mode)
        with os.fdopen(fd, "wb") as fh:
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


def commit(staged: Iterable[tuple[Path, Path]]) -> None:
    """Rename each (temp, target) into place, then sync the folders they are in.

    If a rename fails, the temps not yet renamed are removed and the error
    propagates; targets already renamed stay (each of them is whole).
    """
    pairs = list(staged)
    done = 0
    try:
        for tmp, target in pairs:
            os.replace(tmp, target)
            done += 1
    except BaseException:
        discard(pairs[done:])
        raise
    for folder in {target.parent for _tmp, target in pairs}:
        sync_folder(folder)


def write_atomic(target: Path, data: bytes | str, mode: int | None = None) -> None:
    """Replace `target` with `data` in one step: readers see the old file or the new one."""
    commit([(stage(target, data, mode), target)])


def discard(staged: Iterable[tuple[Path, Path]]) -> None:
    """Remove staged temps that will not be committed."""
    for tmp, _target in staged:
        tmp.unlink(missing_ok=True)
