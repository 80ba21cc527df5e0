"""Which files in the inbox are ours to take, and which are left alone.

Browsers, sync clients and editors leave partial or lock files beside the
real one; taking those would transcribe half a recording, so they are
recognised by name and skipped, as are hidden files and anything that is not
audio or video.
"""

from __future__ import annotations

from pathlib import Path

MEDIA_EXTENSIONS = frozenset(
    {
        "wav", "mp3", "flac", "ogg", "oga", "opus", "m4a", "m4b", "aac", "wma", "aif", "aiff",
        "amr", "caf", "weba", "mka", "mp4", "m4v", "mkv", "mov", "avi", "webm", "wmv", "flv",
        "mpg", "mpeg", "ts", "3gp",
    }
)
PARTIAL_SUFFIXES = (".part", ".crdownload", ".tmp", ".partial", ".download", "~")


def skip_reason(path: Path, root: Path) -> str | None:
    """Why `path` (under `root`) is not a transcription candidate, or None to take it."""
    try:
        rel = path.relative_to(root)
    except ValueError:
        rel = Path(path.name)
    name = path.name
    try:
        str(rel).encode("utf-8")
    except UnicodeEncodeError:
        return "the name is not valid UTF-8 (rename the file)"
    if any(part.lower().endswith(PARTIAL_SUFFIXES) for part in rel.parts[:-1]):
        return "inside a download that is still running"
    if any(part.startswith(".") for part in rel.parts):
        if name.startswith(".~lock"):
            return "lock file"
        return "hidden file"
    lower = name.lower()
    if lower.endswith(PARTIAL_SUFFIXES):
        return "partial or temporary file"
    ext = lower.rsplit(".", 1)[-1] if "." in lower else ""
    if ext not in MEDIA_EXTENSIONS:
        return "not an audio or video file"
    return None
