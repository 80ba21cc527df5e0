"""The little the tray remembers across its own restarts: versions announced.

Written atomically (`voxtrald.atomic`: temp file, fsync, rename) and read forgivingly, in the spirit
of pip's self-check state: a missing or damaged file just means "nothing
announced yet", never a crash.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from voxtrald import atomic, paths

ENV_VAR = "VOXTRAL_TRAY_STATE"
log = logging.getLogger(__name__)


def default_path() -> Path:
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    return paths.default_state_dir() / "tray.json"


def load_announced(path: Path) -> frozenset[str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return frozenset()
    except (OSError, ValueError) as exc:
        log.warning("ignoring unreadable tray state %s: %s", path, exc)
        return frozenset()
    versions = data.get("announced_versions") if isinstance(data, dict) else None
    if not isinstance(versions, list):
        return frozenset()
    return frozenset(v for v in versions if isinstance(v, str) and v)


def save_announced(path: Path, versions: frozenset[str]) -> bool:
    """Write the set; on failure log and go on (the worst case is one repeated notice)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic.write_atomic(path, json.dumps({"announced_versions": sorted(versions)}))
        return True
    except OSError as exc:
        log.warning("cannot save tray state to %s: %s", path, exc)
        return False
