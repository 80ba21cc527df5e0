"""Whether this machine can do its share of a team's work: write the shared folders.

A machine of a team whose share is read-only (mounted so, or its user lacks
the rights) would claim files and transcribe them, then fail to write the
transcripts or move the source, and count a failed attempt against a file
another machine could have done. So it takes no job while it cannot write
there, and says so in its health; it takes jobs again once it can.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path

#: How long one look at the folders is trusted.
CHECK_EVERY_SECONDS = 10.0


class ShareCheck:
    def __init__(self, folders: Sequence[tuple[str, Path]],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.folders = list(folders)
        self._clock = clock
        self._next = 0.0
        self._reason: str | None = None

    def reason(self) -> str | None:
        """Why this machine takes no job now, or None when it can write every shared folder."""
        now = self._clock()
        if now >= self._next:
            self._next = now + CHECK_EVERY_SECONDS
            self._reason = next((f"this machine cannot write to the shared {name} folder "
                                 f"{folder}; it takes no job until it can (another machine "
                                 "of the team does them)"
                                 for name, folder in self.folders if not _writable(folder)),
                                None)
        return self._reason


def _writable(folder: Path) -> bool:
    """access(2), not a probe file: it answers for a read-only mount (root included) and
    for the user's rights, and leaves nothing in a folder the others scan."""
    return os.access(folder, os.W_OK | os.X_OK)
