"""Watching the inbox and handing over files only once they have settled.

A file is taken when its size and mtime have not changed for
`settle_seconds` and it can be opened: a recording still being copied (or
downloaded, or synced) is never picked up half-way. Filesystem events make
the daemon react at once; a periodic full scan catches what events miss
(files dropped while the daemon was down, network folders, a recreated inbox).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from watchdog.events import (
    EVENT_TYPE_CLOSED,
    EVENT_TYPE_CREATED,
    EVENT_TYPE_DELETED,
    EVENT_TYPE_MODIFIED,
    EVENT_TYPE_MOVED,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver

from voxtrald.inbox.media import skip_reason
from voxtrald.inbox.walk import MAX_DEPTH, walk_files

log = logging.getLogger("voxtrald.inbox.watcher")
TICK = 0.25
@dataclass
class _Candidate:
    size: int
    mtime: float
    stable_since: float


# Events that say a file's content or place changed. Opening and reading a file (our own
# hashing and decoding among them) also raise events; taking those as news made every
# finished source a candidate again, then "vanished" once the daemon moved it on.
_CHANGES = frozenset({EVENT_TYPE_CREATED, EVENT_TYPE_MODIFIED, EVENT_TYPE_MOVED,
                      EVENT_TYPE_CLOSED, EVENT_TYPE_DELETED})


class _Events(FileSystemEventHandler):
    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type not in _CHANGES:
            return
        if event.is_directory:
            if event.event_type in ("created", "moved"):
                self.inbox.request_scan()
            return
        for attr in ("dest_path", "src_path"):
            path = getattr(event, attr, "")
            if path:
                self.inbox.touch(Path(os.fsdecode(path)))


class Inbox:
    """Calls `on_ready(path)` once per settled media file (and again if it changes)."""

    def __init__(
        self,
        folder: Path,
        settle_seconds: float,
        on_ready: Callable[[Path], None],
        is_known: Callable[[Path, os.stat_result], bool],
        recursive: bool = True,
        scan_interval: float = 30.0,
    ) -> None:
        self.folder = folder
        self.settle = settle_seconds
        self.on_ready = on_ready
        self.is_known = is_known
        self.recursive = recursive
        self.scan_interval = scan_interval
        self._candidates: dict[Path, _Candidate] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._scan_now = threading.Event()
        self._skipped_logged: set[Path] = set()
        self._observer: BaseObserver | None = None
        self._thread: threading.Thread | None = None
        self._missing_logged = False
        # Why the inbox works only in part (shown by /api/health), each logged once.
        self._degraded: dict[str, str] = {}
        self._next_scan = 0.0

    def start(self) -> None:
        self._start_observer()
        self._scan_now.set()
        self._thread = threading.Thread(target=self._loop, name="inbox", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._stop_observer()
        if self._thread:
            self._thread.join(timeout=5)

    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def problems(self) -> list[str]:
        """What keeps the inbox from seeing every file, in the user's words."""
        return list(self._degraded.values())

    def _degrade(self, key: str, message: str) -> None:
        if key not in self._degraded:
            log.warning("%s", message)
        self._degraded[key] = message

    def _recover(self, key: str) -> None:
        if self._degraded.pop(key, None) is not None:
            log.info("inbox: %s is resolved", key)

    def request_scan(self) -> None:
        self._scan_now.set()

    def touch(self, path: Path) -> None:
        """Something happened to `path`: (re)start its settle clock."""
        if not (path.is_symlink() or path.is_file()):
            return  # deleted, moved away, or a pipe or device: nothing to settle
        reason = skip_reason(path, self.folder)
        if reason:
            if path not in self._skipped_logged:
                self._skipped_logged.add(path)
                log.info("ignoring %s: %s", self._rel(path), reason)
            return
        with self._lock:
            self._candidates.pop(path, None)
            self._candidates[path] = _Candidate(-1, -1.0, time.monotonic())

    # -- internals ---------------------------------------------------------------------------

    def _rel(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.folder))
        except ValueError:
            return str(path)

    def _recreate_folder(self) -> bool:
        """The inbox vanished while running: recreate it, complaining once per outage."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            log.warning("inbox %s disappeared; created it again", self.folder)
            self._missing_logged = False
            return True
        except OSError as exc:
            if not self._missing_logged:
                log.error("inbox %s disappeared and cannot be created again: %s; "
                          "retrying quietly", self.folder, exc)
                self._missing_logged = True
            return False

    def _start_observer(self) -> None:
        """Watch for events; a tree too deep (or too big) to watch whole falls back to the top.

        Files in sub-folders are then found by the periodic scan instead of at once.
        """
        for recursive in dict.fromkeys((self.recursive, False)):
            observer = Observer()
            try:
                observer.schedule(_Events(self), str(self.folder), recursive=recursive)
                observer.start()
            except (OSError, RecursionError) as exc:
                with contextlib.suppress(RuntimeError):
                    observer.stop()
                reason = "too deeply nested" if isinstance(exc, RecursionError) else str(exc)
                self._degrade("watch", f"cannot watch {self.folder} and its sub-folders "
                                       f"({reason}); new files there are found by the "
                                       f"periodic scan every {self.scan_interval:.0f} s")
                continue
            self._observer = observer
            if recursive == self.recursive:
                self._recover("watch")
            return
        self._observer = None

    def _stop_observer(self) -> None:
        observer, self._observer = self._observer, None
        if observer is not None:
            try:
                observer.stop()
                observer.join(timeout=5)
            except (OSError, RuntimeError):
                pass

    def _scan(self) -> None:
        try:
            paths, too_deep = walk_files(self.folder, self.recursive)
        except OSError as exc:
            log.warning("cannot scan inbox %s: %s", self.folder, exc)
            return
        if too_deep:
            self._degrade("depth", f"folders in the inbox nested deeper than {MAX_DEPTH} "
                                   f"levels are not looked into (first: {self._rel(too_deep[0])})")
        else:
            self._recover("depth")
        for path in paths:
            with self._lock:
                if path in self._candidates:
                    continue
            if skip_reason(path, self.folder) is None:
                try:
                    st = path.lstat()
                except OSError:
                    continue
                if self.is_known(path, st):
                    continue
            self.touch(path)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._tick()
            except Exception:  # the watcher must outlive any one bad file
                log.exception("inbox watcher error; going on")
            self._stop.wait(TICK)

    def _tick(self) -> None:
        now = time.monotonic()
        if not self.folder.is_dir():
            self._stop_observer()
            if not self._recreate_folder():
                return
            self._start_observer()
            self._scan_now.set()
        elif self._observer is not None and not self._observer.is_alive():
            self._stop_observer()
            self._start_observer()
            self._scan_now.set()
        if self._scan_now.is_set() or now >= self._next_scan:
            self._scan_now.clear()
            # Set first: a scan that fails waits its turn too instead of repeating each tick.
            self._next_scan = now + self.scan_interval
            self._scan()
        self._check_settled()

    def _check_settled(self) -> None:
        now = time.monotonic()
        with self._lock:
            items = list(self._candidates.items())
        for path, cand in items:
            try:
                st = path.lstat()  # a link is judged as a link (intake sets it aside)
            except FileNotFoundError:
                log.info("%s vanished before it settled", self._rel(path))
                self._forget(path)
                continue
            except OSError as exc:
                log.warning("cannot stat %s: %s", self._rel(path), exc)
                continue
            if (st.st_size, st.st_mtime) != (cand.size, cand.mtime):
                with self._lock:
                    if path in self._candidates:
                        self._candidates[path] = _Candidate(st.st_size, st.st_mtime, now)
                continue
            if now - cand.stable_since < self.settle:
                continue
            self._forget(path)
            try:
                if not self.is_known(path, st):
                    self.on_ready(path)
            except Exception:  # one bad file must not stop the watcher
                log.exception("could not queue %s", self._rel(path))

    def _forget(self, path: Path) -> None:
        with self._lock:
            self._candidates.pop(path, None)
