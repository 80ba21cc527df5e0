"""The running version, from one source: the VERSION file.

An installed wheel carries it in its metadata; a source checkout (or an
editable install whose metadata went stale) falls back to the file itself.
"""

from __future__ import annotations

from functools import cache
from importlib import metadata
from pathlib import Path

APP_NAME = "Voxtral Transcription"
DISTRIBUTION = "voxtral"
_VERSION_FILE = Path(__file__).resolve().parent.parent / "VERSION"


@cache
def current_version() -> str:
    if _VERSION_FILE.is_file():
        text = _VERSION_FILE.read_text(encoding="utf-8").strip()
        if text:
            return text
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "0.0.0"
