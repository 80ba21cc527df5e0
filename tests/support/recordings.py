"""The real human recordings beside the project (../shared/audio), and the skip without them.

They are not the project's to ship, so a plain clone does not have them: every test
that reads them is marked `needs_recordings` and skips with one line saying where
they were looked for. CI has them and runs those tests.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
AUDIO = ROOT.parent / "shared" / "audio"
HAVE_RECORDINGS = (AUDIO / "refs.json").is_file()

needs_recordings = pytest.mark.skipif(
    not HAVE_RECORDINGS, reason=f"needs the real recordings at {AUDIO} (not in a plain clone)")


def references() -> dict[str, Any]:
    """refs.json (reference texts by file name), or {} where the recordings are absent."""
    if not HAVE_RECORDINGS:
        return {}
    loaded: dict[str, Any] = json.loads((AUDIO / "refs.json").read_text(encoding="utf-8"))
    return loaded
