"""Checking a model's files against their pinned SHA-256, without re-hashing at every start.

Hashing 150 MB costs a second or two of disk and CPU; a daemon that starts at
login should not pay it each time. So a successful check leaves a stamp: for
each file, its device, inode, size, modification and change times and the
hash it had. A file whose stat still matches its stamp is the file that was
hashed; any write to it (even one that restores the old mtime) changes its
change time, and a copy or a reinstall gives it a new inode, so it is hashed
again. The stamp is only a cache: losing it, or a stamp that cannot be read
or written, only costs a re-hash.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from voxtrald.files.atomic import write_atomic
from voxtrald.files.hashing import sha256_file
from voxtrald.files.private import is_private_file
from voxtrald.models.pins import FilePin

log = logging.getLogger("voxtrald.models")
CHUNK = 1 << 20
STAMP_VERSION = 1


class ModelError(Exception):
    """A model that cannot be used; the message says what to do about it."""


class ModelIntegrityError(ModelError):
    """A model file that is missing or does not hash to its pinned SHA-256."""

    def __init__(self, path: Path, message: str) -> None:
        super().__init__(message)
        self.path = path


def _identity(st: os.stat_result) -> dict[str, int]:
    return {"dev": st.st_dev, "ino": st.st_ino, "size": st.st_size,
            "mtime_ns": st.st_mtime_ns, "ctime_ns": st.st_ctime_ns}


def _read_stamp(stamp: Path | None) -> dict[str, Any]:
    """The recorded files, or nothing: the stamp is a cache and may be anything on disk."""
    if stamp is None or not is_private_file(stamp):
        return {}  # a stamp another user could have written vouches for nothing
    try:
        data = json.loads(stamp.read_bytes())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("version") != STAMP_VERSION:
        return {}
    files = data.get("files")
    return files if isinstance(files, dict) else {}


def _write_stamp(stamp: Path, files: dict[str, dict[str, Any]]) -> None:
    try:
        stamp.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(stamp, json.dumps({"version": STAMP_VERSION, "files": files}, indent=1))
    except OSError as exc:
        # A read-only data folder only means the next start hashes again.
        log.debug("cannot record the verification in %s: %s", stamp, exc)


def verify_files(folder: Path, files: dict[str, FilePin], stamp: Path | None, remedy: str,
                 rehash: bool = False) -> int:
    """Check every pinned file of `folder`; raise ModelIntegrityError naming the first bad one.

    `remedy` ends each error message (what the user should do). Returns how many
    files had to be hashed (0 when the stamp vouched for all of them).
    """
    recorded = {} if rehash else _read_stamp(stamp)
    stats: dict[str, os.stat_result] = {}
    # Sizes first: a missing or cut file is reported at once, without hashing the others.
    for name, pin in files.items():
        path = folder / name
        try:
            st = path.stat()
        except FileNotFoundError:
            raise ModelIntegrityError(path, f"model file {path} is missing; {remedy}") from None
        except OSError as exc:
            raise ModelIntegrityError(
                path, f"model file {path} cannot be read ({exc.strerror}); {remedy}") from None
        if st.st_size != pin.size:
            raise ModelIntegrityError(
                path, f"model file {path} does not match its pinned SHA-256 (it is "
                      f"{st.st_size} bytes, {pin.size} expected); {remedy}")
        stats[name] = st
    fresh: dict[str, dict[str, Any]] = {}
    hashed = 0
    for name, pin in files.items():
        path = folder / name
        entry = dict(_identity(stats[name]), sha256=pin.sha256)
        if recorded.get(name) == entry:
            fresh[name] = entry
            continue
        try:
            actual = sha256_file(path)
        except OSError as exc:
            raise ModelIntegrityError(
                path, f"model file {path} cannot be read ({exc.strerror}); {remedy}") from None
        hashed += 1
        if actual != pin.sha256:
            raise ModelIntegrityError(
                path, f"model file {path} does not match its pinned SHA-256; {remedy}")
        # The stat taken after hashing: a file rewritten meanwhile is not vouched for.
        after = path.stat()
        if _identity(after) == _identity(stats[name]):
            fresh[name] = entry
    if stamp is not None and hashed and len(fresh) == len(files):
        _write_stamp(stamp, fresh)
    return hashed
