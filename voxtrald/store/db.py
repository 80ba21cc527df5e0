"""The job store's SQLite connection: one per daemon, shared by its threads.

SQLite in WAL mode with full syncs: a job is recorded before any work starts
and its end before its files move, so whatever a crash or a power cut
interrupts is found again, in the right state, at the next start. One lock
serialises the threads (inbox, scheduler, API) on the one connection.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from voxtrald.files.private import FILE_MODE, private_folder, tighten_file
from voxtrald.store.health import StoreHealth
from voxtrald.store.migrations import migrate

SIDE_FILES = ("-wal", "-shm", "-journal")


def _private_files(path: Path) -> None:
    """The database and its side files 0600, before SQLite opens them.

    SQLite creates the database 0644 (less the umask) and gives its -wal and
    -shm the database's own mode, so creating the database 0600 first keeps
    all three private; files an older version left readable are tightened.
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), FILE_MODE)
    os.close(fd)
    for suffix in ("", *SIDE_FILES):
        tighten_file(Path(str(path) + suffix))


class Database:
    def __init__(self, path: Path) -> None:
        # The store holds every job's name, path and, while it runs, its text.
        private_folder(path.parent, "state folder")
        _private_files(path)
        self.health = StoreHealth(str(path))
        self._lock = threading.RLock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        # FULL, not NORMAL: transcripts and moves are synced to disk, so the record of
        # them must be too, or a power cut could requeue a job whose files already moved.
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.execute("PRAGMA foreign_keys=ON")
        self.previous_schema = migrate(self._db)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                yield self._db
                self._db.execute("COMMIT")
            except BaseException as exc:
                # Also after a failed COMMIT (a full disk), which may leave it open.
                if self._db.in_transaction:
                    with suppress(sqlite3.Error):
                        self._db.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error | OSError):
                    self.health.failed(exc)
                raise
        self.health.succeeded()

    def _one(self, sql: str, args: tuple[Any, ...] = ()) -> sqlite3.Row | None:
        with self._lock:
            row: sqlite3.Row | None = self._db.execute(sql, args).fetchone()
            return row
