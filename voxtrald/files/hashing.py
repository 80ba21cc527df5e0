"""Content hashes: how the daemon knows two files hold the same bytes.

One place for every file the project hashes (sources for duplicate
detection, model files against their pins, wheels and releases), so block
size and algorithm cannot drift apart. A user's source is opened without
following links or blocking on a pipe; the project's own files as they are.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path
from typing import BinaryIO

BLOCK = 1024 * 1024


def sha256_stream(fh: BinaryIO) -> str:
    """SHA-256 of what is left to read in an open binary file."""
    digest = hashlib.sha256()
    while block := fh.read(BLOCK):
        digest.update(block)
    return digest.hexdigest()


class NotRegular(OSError):
    """The path is a link, a pipe, a device or a folder, not a plain file."""


def open_regular(path: Path) -> BinaryIO:
    """Open a plain file for reading without following a link and without blocking.

    The check is made on the opened descriptor, so a file swapped for a link or
    a pipe between a look and the open is refused, never read through.
    """
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) \
        | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if path.is_symlink():
            raise NotRegular(f"{path.name} is a link") from exc
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise NotRegular(f"{path.name} is not a regular file")
    return os.fdopen(fd, "rb")


def sha256_file(path: Path) -> str:
    """The content hash of one of the project's own files (a model, a wheel, a release)."""
    with path.open("rb") as fh:
        return sha256_stream(fh)


def sha256_of(path: Path) -> str:
    """The content hash of a user's source file: a plain file only, NotRegular otherwise."""
    with open_regular(path) as fh:
        return sha256_stream(fh)


def copy_hashed(source: Path, target: Path) -> str:
    """Copy `source` to a new file `target` (0600) and return the SHA-256 of the bytes written.

    The hash is of what was copied, read once: whatever the source becomes
    afterwards, `target` holds exactly the bytes the returned hash names.
    """
    digest = hashlib.sha256()
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) \
        | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    with open_regular(source) as src, os.fdopen(os.open(target, flags, 0o600), "wb") as dst:
        while block := src.read(BLOCK):
            digest.update(block)
            dst.write(block)
        dst.flush()
        os.fsync(dst.fileno())
    return digest.hexdigest()
