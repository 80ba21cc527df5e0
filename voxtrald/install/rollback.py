"""Putting the previous version back: store, pointer, record, in an order a kill cannot break.

The intent is recorded first; every later step can be done again, so a kill
at any moment leaves either the old state or a rollback that the next start
finishes (the launcher hands `run` to the supervisor named in `pending`).
"""

from __future__ import annotations

import json
import logging
import subprocess
from pathlib import Path
from typing import Any

from voxtrald.install import record, storecopy
from voxtrald.install.envbuild import remove
from voxtrald.install.layout import InstallRoot, LayoutError
from voxtrald.version import current_version

log = logging.getLogger("voxtrald.install")

BACKUPS = "store-backups"


def backup_path(root: InstallRoot, version: str) -> Path:
    """Where the store is kept as `version` left it, before switching away from it."""
    return root.path / BACKUPS / f"jobs-{version}.sqlite3"


def store_facts(root: InstallRoot, version: str) -> tuple[int, list[str]]:
    """The job store schema and job states `version` understands (asked of its environment)."""
    if version == current_version():
        from voxtrald.states import JobState
        from voxtrald.store.migrations import SCHEMA_VERSION

        return SCHEMA_VERSION, [s.value for s in JobState]
    code = ("import json; from voxtrald.store.migrations import SCHEMA_VERSION as v; "
            "from voxtrald.states import JobState as s; "
            "print(json.dumps([v, [x.value for x in s]]))")
    done = subprocess.run([str(root.python(version)), "-c", code], capture_output=True,
                          text=True, timeout=120, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        raise LayoutError(f"version {version} cannot be asked about its job store: "
                          f"{(done.stderr.strip().splitlines() or ['no output'])[-1]}")
    schema, states = json.loads(done.stdout)
    return int(schema), [str(s) for s in states]


def begin(root: InstallRoot, failed: str, previous: str, reason: str,
          state_dir: Path | None) -> None:
    """Record that `failed` is being replaced by `previous` (the first, durable step)."""
    def change(state: dict[str, Any]) -> None:
        state["rollback"] = {"version": failed, "previous": previous, "reason": reason,
                             "state_dir": str(state_dir) if state_dir else None,
                             "at": record.now_iso()}
    record.update(root, change)


def finish(root: InstallRoot) -> dict[str, Any] | None:
    """Carry out the recorded rollback, if any; returns what was rolled back."""
    entry = record.load(root)["rollback"]
    if entry is None:
        return None
    failed, previous, reason = entry["version"], entry["previous"], entry.get("reason", "")
    if not root.is_complete(previous):
        raise LayoutError(f"cannot roll back to {previous}: it is no longer installed")
    state_dir = Path(entry["state_dir"]) if entry.get("state_dir") else None
    if state_dir is not None:
        schema, states = store_facts(root, previous)
        how = storecopy.restore_for(state_dir, backup_path(root, previous), schema, states)
        log.info("job store for %s: %s", previous, how)
    root.switch(previous)

    def change(state: dict[str, Any]) -> None:
        state["failed"][failed] = {"reason": reason[:500], "at": record.now_iso()}
        state["rollback"] = None
        state["trial"] = None
        state["rolled_back"] = {"version": failed, "previous": previous, "reason": reason[:500],
                                "at": record.now_iso(), "announced": False}
    record.update(root, change)
    record.write_pending(root, None)
    log.warning("Voxtral %s was rolled back to %s: %s", failed, previous, reason)
    return {"version": failed, "previous": previous, "reason": reason}


def previous_of(root: InstallRoot, current: str) -> str | None:
    """The version to go back to: the one the last update came from, else the newest older."""
    applied = record.load(root)["applied"]
    if applied and applied.get("version") == current and root.is_complete(applied["previous"]):
        return str(applied["previous"])
    from packaging.version import Version

    older = [v for v in root.versions() if Version(v) < Version(current)]
    return older[-1] if older else None


def prune(root: InstallRoot, keep: set[str]) -> None:
    """Remove every version (and its store backup) but `keep`."""
    for version in root.versions():
        if version not in keep:
            log.info("removing old version %s", version)
            remove(root.version_dir(version))
            backup_path(root, version).unlink(missing_ok=True)
