"""What happens to a user's source file: hashed, moved on, set aside, brought back.

Every move picks a free name in the target folder, so a second `talk.mp3`
never replaces the first; a source that failed for good is set aside with a
NAME.error.json beside it, so the user can see why without reading logs.
Names that would grow past the filesystem's limit (`-2`, `.error.json`) are
shortened with a short hash instead of failing (`voxtrald.filenames`).
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Any

from voxtrald import _platform, atomic, filenames, jsontext
from voxtrald.media import PARTIAL_SUFFIXES

HASH_BLOCK = 1024 * 1024
REPORT_SUFFIX = ".error.json"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(HASH_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def free_path(target: Path) -> Path:
    """`target`, or 'name-2.ext', 'name-3.ext'… when it exists: never overwrite."""
    return filenames.free_path(target)


def report_path(source: Path) -> Path:
    """Where the error report of a set-aside `source` goes: SOURCE.error.json, fitted."""
    limit = _platform.name_max(source.parent)
    return source.with_name(filenames.fit_with_suffix(source.name, REPORT_SUFFIX, limit))


def move_into(source: Path, folder: Path) -> Path:
    """Move `source` into `folder` under a free name; returns where it went."""
    folder.mkdir(parents=True, exist_ok=True)
    target = free_path(folder / source.name)
    shutil.move(str(source), str(target))
    return target


def set_aside(source: Path, target: Path, record: dict[str, Any]) -> None:
    """Move a failed source to `target` and write TARGET.error.json (atomically) beside it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.exists():
        shutil.move(str(source), str(target))
    text = jsontext.dumps(record) + "\n"
    atomic.write_atomic(report_path(target), text, mode=atomic.USER_FILE_MODE)


def download_in_progress(path: Path) -> bool:
    """An empty file beside NAME.part (or .crdownload…) is a browser's placeholder."""
    return any(path.with_name(path.name + suffix).exists() for suffix in PARTIAL_SUFFIXES)


def bring_back(source: Path, folder: Path) -> Path:
    """Return a set-aside source to `folder` for another try; its error report goes."""
    report_path(source).unlink(missing_ok=True)
    return move_into(source, folder)
