"""The update checker's memory: one small JSON file, replaced atomically.

It keeps what must survive a restart so the checker neither repeats itself
nor hammers GitHub: when it last asked, the ETag and cached release (a 304
then costs nothing against the rate limit), the earliest next request, the
versions the user dismissed and the versions already announced. A missing or
corrupt file is simply a fresh start, never a crash.
"""

from __future__ import annotations

import json
import logging
import math
import time
from pathlib import Path
from typing import Any

from voxtrald.files import atomic

log = logging.getLogger("voxtrald.updates")

STATE_FILE = "update-state.json"
MAX_REMEMBERED = 50  # dismissed/announced versions kept; old ones fall off
# A time further ahead than this is no time we wrote (GitHub's longest wait is capped
# at a day): the file was damaged or hand-edited.
MAX_FUTURE = 2 * 86400.0
_TIMES = ("last_attempt", "next_request_at")


def load(path: Path) -> dict[str, Any]:
    """The saved state, or a fresh one; `dismissed` and `announced` are always lists."""
    data: Any
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        data = {}
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        log.warning("update state %s unreadable (%s); starting afresh", path, exc)
        data = {}
    if not isinstance(data, dict):
        data = {}
    for key in ("dismissed", "announced"):
        value = data.get(key)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            data[key] = []
    # A hand-edited or half-migrated file must not break every later check.
    for key, kinds in _TYPES.items():
        if key in data and not isinstance(data[key], kinds):
            data.pop(key)
    bad = [key for key in _TIMES if not _sane_time(data.get(key))]
    if bad:
        # NaN made the checker spin, 1e308 silenced it for good: start afresh, once, loudly.
        log.warning("update state %s has an impossible %s (%r); starting afresh", path,
                    bad[0], data.get(bad[0]))
        data = {key: data[key] for key in ("dismissed", "announced")}
    return data


def _sane_time(value: object) -> bool:
    """None, or a finite epoch time from 0 up to a little ahead of now."""
    if value is None:
        return True
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value) and 0 <= value <= time.time() + MAX_FUTURE


_TYPES: dict[str, Any] = {
    "last_attempt": (int, float),
    "next_request_at": (int, float, type(None)),
    "checked_at": (str, type(None)),
    "error": (str, type(None)),
    "etag": (str, type(None)),
    "etag_url": (str, type(None)),
    "release": (dict, type(None)),
    "source": str,
}


def save(path: Path, data: dict[str, Any]) -> None:
    """Replace the file in one step (`voxtrald.files.atomic`), so a reader never sees half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic.write_atomic(path, json.dumps(data, indent=1, sort_keys=True))


def remember(values: list[str], value: str) -> list[str]:
    """`values` with `value` added once, keeping only the newest MAX_REMEMBERED."""
    kept = [v for v in values if v != value] + [value]
    return kept[-MAX_REMEMBERED:]
