"""Content hashes: how the daemon knows two files hold the same bytes.

One function for every file the project hashes (sources for duplicate
detection, model files against their pins), so block size and algorithm
cannot drift apart.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import BinaryIO

BLOCK = 1024 * 1024


def sha256_stream(fh: BinaryIO) -> str:
    """SHA-256 of what is left to read in an open binary file."""
    digest = hashlib.sha256()
    while block := fh.read(BLOCK):
        digest.update(block)
    return digest.hexdigest()


def sha256_of(path: Path) -> str:
    with path.open("rb") as fh:
        return sha256_stream(fh)
