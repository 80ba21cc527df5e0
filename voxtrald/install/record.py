"""The install's memory: failed versions, the update being tried, what happened last.

One JSON file beside the versions (`DIR/install-state.json`), replaced
atomically and changed only under a lock, since the daemon, the trial
supervisor and `voxtrald rollback` may all touch it. A damaged file is a
fresh start, except that it never loses the record of an update in progress
silently: that is logged.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from voxtrald.files import atomic
from voxtrald.files.locks import AlreadyLocked, LockFile
from voxtrald.install.layout import InstallRoot, valid_version

log = logging.getLogger("voxtrald.install")

LOCK = ".install.lock"
LOCK_WAIT = 30.0
MAX_FAILED = 50

State = dict[str, Any]


def _fresh() -> State:
    return {"failed": {}, "trial": None, "rollback": None, "rolled_back": None,
            "applied": None}


def load(root: InstallRoot) -> State:
    try:
        data = json.loads(root.state_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return _fresh()
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        log.warning("install state %s unreadable (%s); starting afresh", root.state_file, exc)
        return _fresh()
    state = _fresh()
    if not isinstance(data, dict):
        return state
    failed = data.get("failed")
    if isinstance(failed, dict):
        for version, entry in failed.items():
            if isinstance(version, str) and valid_version(version):
                reason = entry.get("reason") if isinstance(entry, dict) else entry
                state["failed"][version] = {"reason": str(reason or "")[:500]}
    for key in ("trial", "rollback", "rolled_back", "applied"):
        value = data.get(key)
        if isinstance(value, dict) and _versions_ok(value):
            state[key] = value
    return state


def _versions_ok(entry: dict[str, Any]) -> bool:
    """Every version named in an entry is a plain version (they become paths)."""
    for key in ("version", "previous"):
        if key in entry and not (isinstance(entry[key], str) and valid_version(entry[key])):
            return False
    return "version" in entry


def save(root: InstallRoot, state: State) -> None:
    atomic.write_atomic(root.state_file, json.dumps(state, indent=1, sort_keys=True))


@contextlib.contextmanager
def locked(root: InstallRoot, wait: float = LOCK_WAIT) -> Iterator[None]:
    """Hold the install's lock (waiting up to `wait` s for another holder)."""
    try:
        with LockFile(root.path / LOCK).held(wait):
            yield
    except AlreadyLocked as exc:
        raise TimeoutError(f"{root.path} is busy (another update or rollback "
                           "is changing it)") from exc


def update(root: InstallRoot, change: Callable[[State], Any]) -> State:
    """Read, change and write the state under the lock; returns the new state."""
    with locked(root):
        state = load(root)
        change(state)
        failed = state["failed"]
        if len(failed) > MAX_FAILED:
            state["failed"] = dict(list(failed.items())[-MAX_FAILED:])
        save(root, state)
        return state


def failed_versions(root: InstallRoot) -> dict[str, str]:
    """Versions applied here that were rolled back, with why."""
    return {v: entry.get("reason", "") for v, entry in load(root)["failed"].items()}


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def write_pending(root: InstallRoot, version: str | None) -> None:
    """Name the version whose supervisor takes the next `run` (None: nobody)."""
    if version is None:
        with contextlib.suppress(FileNotFoundError):
            root.pending_file.unlink()
        return
    atomic.write_atomic(root.pending_file, version + "\n")


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))
