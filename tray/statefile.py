"""The little the tray remembers across its own restarts: versions announced, the
install outcomes told (so a restarted tray reading the daemon's history does not
tell them again), and which kinds of notification the user switched on or off.

Written atomically (`voxtrald.files.atomic`: temp file, fsync, rename) and read
forgivingly, in the spirit of pip's self-check state: a missing or damaged file just means "nothing
announced yet", never a crash.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from tray.prefs import NotifyPrefs
from voxtrald import paths
from voxtrald.files import atomic

ENV_VAR = "VOXTRAL_TRAY_STATE"
log = logging.getLogger(__name__)


def default_path() -> Path:
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    return paths.default_state_dir() / "tray.json"


def _read(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        log.warning("ignoring unreadable tray state %s: %s", path, exc)
        return {}
    return data if isinstance(data, dict) else {}


def load_announced(path: Path) -> frozenset[str]:
    versions = _read(path).get("announced_versions")
    if not isinstance(versions, list):
        return frozenset()
    return frozenset(v for v in versions if isinstance(v, str) and v)


def load_news(path: Path) -> tuple[str, ...]:
    """Keys of the install outcomes already told (tray.installing), oldest first."""
    keys = _read(path).get("install_news")
    if not isinstance(keys, list):
        return ()
    return tuple(k for k in keys if isinstance(k, str) and k)


def load_prefs(path: Path, default: NotifyPrefs) -> NotifyPrefs:
    """The Notifications menu's switches as last saved; `default` where none was."""
    return NotifyPrefs.from_dict(_read(path).get("notifications"), default)


def save(path: Path, versions: frozenset[str], prefs: NotifyPrefs,
         news: tuple[str, ...] = ()) -> bool:
    """Write the state; on failure log and go on (the worst case is one repeated notice)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {"announced_versions": sorted(versions), "notifications": prefs.to_dict(),
                "install_news": list(news)}
        atomic.write_atomic(path, json.dumps(data))
        return True
    except OSError as exc:
        log.warning("cannot save tray state to %s: %s", path, exc)
        return False


def save_announced(path: Path, versions: frozenset[str]) -> bool:
    """Write the announced versions, keeping the rest."""
    return save(path, versions, load_prefs(path, NotifyPrefs()), load_news(path))
