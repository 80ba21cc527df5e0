"""Checks behind the tray's actions that need a look at local files.

Kept out of the controller so each is a small function tested directly: a
retry that cannot help is refused before it is asked for, and only a local
transcript is ever read for the clipboard.
"""

from __future__ import annotations

import logging
from pathlib import Path

from tray import desktop
from tray.notices import name
from voxtrald import bodies
from voxtrald.files import hashing

log = logging.getLogger(__name__)


def retry_is_pointless(job: bodies.Job) -> bool:
    """A job that failed for good before its attempts ran out failed for a reason a retry
    cannot change (not audio); if its file is the very same bytes, it would fail again."""
    source, digest = job["source_path"], job["sha256"]
    if job["state"] != "failed" or job["attempts"] >= job["max_attempts"]:
        return False
    if not source or not digest or desktop.local_path(source, want_dir=False) is None:
        return False
    try:
        return hashing.sha256_of(Path(source)) == digest
    except (OSError, hashing.NotRegular):
        return False


def read_transcript(transcript: str, limit: int) -> str | None:
    """The first `limit` characters of a local .txt transcript; None (logged) otherwise."""
    path = desktop.local_path(transcript, want_dir=False)
    if path is None or not path.endswith(".txt"):
        log.warning("not copying %r: not an existing local transcript", name(transcript))
        return None
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read(limit)
    except OSError as exc:
        log.warning("cannot read %s: %s", path, exc)
        return None
