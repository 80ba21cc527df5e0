"""A per-file speakers setting: NAME.speakers.txt (or NAME.EXT.speakers.txt) beside it.

Holds "auto", "off" or a number of speakers, overriding `[engine] speakers`
for that file. It comes from the same untrusted folder as the audio: read
with a size cap, and a bad one is ignored with a warning in the transcript
(the configured setting is used) rather than failing the job.
"""

from __future__ import annotations

import stat
from pathlib import Path

from voxtrald.engine.speakers.choice import ALLOWED, is_valid

SUFFIX = ".speakers.txt"
MAX_BYTES = 64


def sidecar_for(source: Path) -> Path | None:
    for candidate in (source.with_name(source.name + SUFFIX),
                      source.with_name(source.stem + SUFFIX)):
        try:
            if stat.S_ISREG(candidate.lstat().st_mode):
                return candidate
        except OSError:
            continue
    return None


def for_source(source: Path, configured: str) -> tuple[str, tuple[str, ...]]:
    """The setting for this file and any warning about its sidecar."""
    path = sidecar_for(source)
    if path is None:
        return configured, ()
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_BYTES + 1)
        text = raw.decode("utf-8").strip() if len(raw) <= MAX_BYTES else ""
    except (OSError, UnicodeDecodeError):
        text = ""
    if is_valid(text):
        return text.lower(), ()
    return configured, (f"{path.name} was ignored: it must hold {ALLOWED}; "
                        f"speakers = {configured!r} was used",)
