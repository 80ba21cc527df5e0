"""The job store's SQLite connection: one per daemon, shared by its threads.

SQLite in WAL mode with full syncs: a job is recorded before any work starts
and its end before its files move, so whatever a crash or a power cut
interrupts is found again, in the right state, at the next start. One lock
serialises the threads (inbox, scheduler, API) on the one connection.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from voxtrald.files.private import FILE_MODE, private_folder, tighten_file
from voxtrald.store.health import StoreHealth
from voxtrald.store.migrations import migrate

SIDE_FILES = ("-wal", "-shm", "-journal")
#: How long a claim on a running job lasts without being renewed (the team queue).
LEASE_SECONDS = 60.0


def machine_name() -> str:
    """This machine's name in the job records: its host name."""
    return socket.gethostname() or "localhost"


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
    """The connection, one lock, and what a claim on a running job needs.

    A job is claimed by a machine (`host`) with a token (`claim_token`) that
    grows with every claim; every write about a running job names the token
    it was claimed with, so a machine that lost its claim (the team queue)
    writes nothing. One machine alone never loses a claim.
    """

    #: Whether intake hashes a file before it is queued. The team queue hashes it
    #: after the claim instead: only the machine that wins a file reads it.
    hash_at_intake = True
    #: Whether several machines share this store (the team queue on PostgreSQL).
    team = False
    #: How long a claim lasts unless renewed (only the team queue renews and expires them).
    lease_seconds = LEASE_SECONDS

    def __init__(self, path: Path, host: str | None = None) -> None:
        self.host = host or machine_name()
        self._claims: dict[int, int] = {}
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

    def now(self) -> float:
        """The store's clock (epoch seconds): every time it records and compares.

        This machine's clock for SQLite; the team queue's follows the database
        server's, so machines whose clocks disagree still agree on the queue.
        """
        return time.time()

    def _serialize(self, db: Any, key: str) -> None:
        """Make transactions about `key` run one after another (SQLite: they all do)."""

    def _fence(self, job_id: int) -> tuple[str, tuple[Any, ...]]:
        """`AND claim_token=?` for a job this daemon claimed: a write only its holder makes."""
        token = self._claims.get(job_id)
        return ("", ()) if token is None else (" AND claim_token=?", (token,))

    def _release(self, job_id: int) -> None:
        self._claims.pop(job_id, None)

    @contextmanager
    def _tx(self, durable: bool = True) -> Iterator[sqlite3.Connection]:
        """One transaction. `durable=False` marks a write worth no wait for the disk (a
        progress figure, a lease): the team queue then commits without flushing; SQLite's
        writes are all synced."""
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
