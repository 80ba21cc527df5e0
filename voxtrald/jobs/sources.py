"""What happens to a user's source file: hashed, moved on, set aside, brought back.

Every move picks a free name in the target folder, so a second `talk.mp3`
never replaces the first; a source that failed for good is set aside with a
NAME.error.json beside it, so the user can see why without reading logs.
Names that would grow past the filesystem's limit (`-2`, `.error.json`) are
shortened with a short hash instead of failing (`voxtrald.files.filenames`).
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
import tempfile
from pathlib import Path
from typing import Any

from voxtrald import _platform
from voxtrald.files import atomic, filenames, jsontext
from voxtrald.inbox.media import PARTIAL_SUFFIXES

COPY_BLOCK = 1024 * 1024
REPORT_SUFFIX = ".error.json"


def free_path(target: Path) -> Path:
    """`target`, or 'name-2.ext', 'name-3.ext'… when it exists: never overwrite."""
    return filenames.free_path(target)


def report_path(source: Path) -> Path:
    """Where the error report of a set-aside `source` goes: SOURCE.error.json, fitted."""
    limit = _platform.name_max(source.parent)
    return source.with_name(filenames.fit_with_suffix(source.name, REPORT_SUFFIX, limit))


def move_file(source: Path, target: Path) -> None:
    """Move one file (or link, or pipe: whatever is there, never what it points at).

    Within a filesystem this is one rename. Across filesystems the file is
    copied to a hidden temp name beside the target, synced, renamed into place,
    and only then is the source removed: a kill at any moment leaves the
    original intact and at most a temp file (swept at start-up), never a
    half-copied file under the real name.
    """
    try:
        os.rename(source, target)
        atomic.sync_folder(target.parent)  # the rename itself must survive a power cut
        if source.parent != target.parent:
            atomic.sync_folder(source.parent)
        return
    except OSError as exc:
        if exc.errno != errno.EXDEV or not stat.S_ISREG(source.lstat().st_mode):
            raise
    fd, name = tempfile.mkstemp(prefix=atomic.TEMP_PREFIX, suffix=".tmp", dir=target.parent)
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as dst, open(source, "rb") as src:
            shutil.copyfileobj(src, dst, COPY_BLOCK)
            dst.flush()
            os.fsync(dst.fileno())
        shutil.copystat(source, tmp)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    atomic.sync_folder(target.parent)
    source.unlink()


def move_into(source: Path, folder: Path) -> Path:
    """Move `source` into `folder` under a free name; returns where it went."""
    atomic.ensure_folder(folder)
    target = free_path(folder / source.name)
    move_file(source, target)
    return target


def set_aside(source: Path, target: Path, record: dict[str, Any]) -> None:
    """Move a failed source to `target` and write TARGET.error.json (atomically) beside it."""
    atomic.ensure_folder(target.parent)
    if source.exists() or source.is_symlink():
        move_file(source, target)
    text = jsontext.dumps(record) + "\n"
    atomic.write_atomic(report_path(target), text, mode=atomic.USER_FILE_MODE)


def download_in_progress(path: Path) -> bool:
    """An empty file beside NAME.part (or .crdownload…) is a browser's placeholder."""
    return any(path.with_name(path.name + suffix).exists() for suffix in PARTIAL_SUFFIXES)


def bring_back(source: Path, folder: Path) -> Path:
    """Return a set-aside source to `folder` for another try; its error report goes."""
    report_path(source).unlink(missing_ok=True)
    return move_into(source, folder)
