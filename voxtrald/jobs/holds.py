"""Folders held by a broken rules file: what health and status show, said once in the log.

A held file waits in the queue (looked at again every few seconds) rather than
failing: the user's fix of the rules file is all it takes for it to go on.
Whether a hold still stands is asked of the file itself each time someone
looks, so health never shows a hold that was fixed while the queue was busy.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from voxtrald.jobs import rules

log = logging.getLogger("voxtrald")


class FolderHolds:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: dict[Path, str] = {}  # rules file -> why its folder is held
        self._ignored: set[str] = set()  # reasons already logged

    def hold(self, path: Path, reason: str, file: str) -> None:
        with self._lock:
            new = self._held.get(path) != reason
            self._held[path] = reason
        if new:
            log.error("%s; files in %s wait until it is fixed (first: %s)", reason,
                      path.parent, file)

    def release(self, paths: list[Path]) -> None:
        """The rules in `paths` were read fine for a file: any hold on them is over."""
        with self._lock:
            gone = [p for p in paths if self._held.pop(p, None) is not None]
        for path in gone:
            log.info("rules file %s is fixed; the files of its folder go on", path)

    def note_ignored(self, reasons: tuple[str, ...]) -> None:
        """Log each ignored rules file once (it is looked at for every file below it)."""
        for reason in reasons:
            with self._lock:
                if reason in self._ignored:
                    continue
                self._ignored.add(reason)
            log.warning("%s", reason)

    def active(self) -> list[dict[str, str]]:
        """Holds that still stand, each rules file read again now."""
        with self._lock:
            held = dict(self._held)
        standing: list[dict[str, str]] = []
        fixed: list[Path] = []
        for path in held:
            try:
                rules.read_rules(path, rules.current_uid())
            except rules.RulesError as exc:
                standing.append({"rules_file": str(path), "folder": str(path.parent),
                                 "reason": str(exc)})
                continue
            except rules.RulesIgnored:
                pass
            fixed.append(path)
        self.release(fixed)
        return standing

    def problems(self) -> list[str]:
        return [f"files in {h['folder']} are held: {h['reason']}" for h in self.active()]
