"""The job store on PostgreSQL: the same jobs, shared by the machines of a team.

Every query of the single-machine store runs here unchanged (see
`connection.py`); what differs is what a shared queue needs:
- the store's clock is the database server's, so no decision depends on
  the machines' clocks agreeing;
- intake does not hash: the machine that claims a file hashes it, so only
  the winner of a file in a shared inbox reads it;
- transactions about one file or one content are serialized with advisory
  locks, so two machines never record one file twice;
- a machine's settings (a pause) are its own; the team's members, with
  what each runs, are in `members`, refreshed by each machine's lease thread.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from voxtrald.store import sql_states as sql
from voxtrald.store.errors import StoreUnavailable
from voxtrald.store.health import StoreHealth
from voxtrald.store.job import Job
from voxtrald.store.jobs import JobStore
from voxtrald.store.pg import schema
from voxtrald.store.pg.connection import PgConnection
from voxtrald.store.pg.dsn import shown
from voxtrald.store.pg.search import PgTranscriptSearch


class TeamConflict(Exception):
    """Another running daemon uses this machine name in the team."""


class TeamHealth(StoreHealth):
    def describe(self, fault: str) -> str:
        reason = fault.removeprefix("unreachable: ")
        return (f"the team queue {self.where} cannot be reached ({reason}); "
                "the running job goes on, no new job is taken and new files wait in the "
                "inbox until it is back")


@dataclass(frozen=True)
class Member:
    """One machine of the team as the queue last heard from it."""

    name: str
    version: str
    seen_seconds_ago: float
    running: int | None
    memory_level: str | None


class TeamStore(PgTranscriptSearch, JobStore):
    hash_at_intake = False
    team = True

    def __init__(self, dsn: str, host: str, instance: str,
                 lease_seconds: float = 60.0) -> None:
        self.host = host
        self.instance = instance
        self.lease_seconds = lease_seconds
        self.where = shown(dsn)
        self._claims: dict[int, int] = {}
        self._lock = threading.RLock()
        self._db: Any = PgConnection(dsn)
        self.health = TeamHealth(self.where)
        self._offset = 0.0
        #: Why this daemon takes no job (the schema is newer than it); None: it takes them.
        self.refused: str | None = None
        with self._lock:
            self.previous_schema = schema.migrate(self._db)
        self.refresh_clock()

    # -- the connection --------------------------------------------------------------------

    @contextmanager
    def _tx(self, durable: bool = True) -> Iterator[Any]:
        with self._lock:
            try:
                with self._db.transaction() as db:
                    if not durable:
                        db.execute("SET LOCAL synchronous_commit TO OFF")
                    yield db
            except StoreUnavailable as exc:
                self.health.failed(exc)
                raise
        self.health.succeeded()

    def _one(self, sql_text: str, args: tuple[Any, ...] = ()) -> Any:
        with self._lock:
            return self._db.execute(sql_text, args).fetchone()

    def _serialize(self, db: Any, key: str) -> None:
        db.execute("SELECT pg_advisory_xact_lock(hashtextextended(?, 0))", (key,))

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- the team's clock ------------------------------------------------------------------

    def now(self) -> float:
        return time.time() + self._offset

    def refresh_clock(self) -> None:
        """Follow the database server's clock: this machine's may be minutes off."""
        before = time.time()
        row = self._one("SELECT extract(epoch from clock_timestamp())::float8 AS t")
        after = time.time()
        if row is not None:
            self._offset = float(row["t"]) - (before + after) / 2

    # -- claims, guarded by the schema version ---------------------------------------------

    def next_runnable(self, now: float | None = None) -> Job | None:
        if self.refused is not None:
            return None
        return super().next_runnable(now)

    def check_schema(self) -> str | None:
        """Whether this daemon may still take jobs (a newer one may have migrated the queue)."""
        with self._lock:
            self.refused = schema.newer_than_this(schema.found_version(self._db))
        return self.refused

    # -- this machine's own settings -------------------------------------------------------

    def get_setting(self, key: str, default: str | None = None) -> str | None:
        row = self._one("SELECT value FROM member_settings WHERE host=? AND key=?",
                        (self.host, key))
        return str(row["value"]) if row else default

    def set_setting(self, key: str, value: str) -> None:
        with self._tx() as db:
            db.execute("INSERT INTO member_settings(host, key, value) VALUES (?, ?, ?)"
                       " ON CONFLICT (host, key) DO UPDATE SET value=excluded.value",
                       (self.host, key, value))

    # -- the team --------------------------------------------------------------------------

    def join(self, version: str) -> None:
        """Enter the team under this machine's name; TeamConflict when another live daemon
        has it (two daemons with one name would take each other's jobs back)."""
        now = self.now()
        with self._tx() as db:
            self._serialize(db, "member:" + self.host)
            row = db.execute("SELECT instance, seen_at FROM members WHERE name=?",
                             (self.host,)).fetchone()
            if row and row["instance"] != self.instance and now - row["seen_at"] < \
                    self.lease_seconds:
                raise TeamConflict(
                    f"another voxtrald ({row['instance']}) is in the team as "
                    f"{self.host!r}, heard from {now - row['seen_at']:.0f} s ago; give this "
                    "one its own name with [queue] machine_name")
            db.execute(
                "INSERT INTO members(name, instance, version, started_at, seen_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET"
                " instance=excluded.instance, version=excluded.version,"
                " started_at=excluded.started_at, seen_at=excluded.seen_at, running=NULL",
                (self.host, self.instance, version, now, now))

    def beat(self, running: int | None, memory_level: str | None) -> None:
        with self._tx(durable=False) as db:
            db.execute("UPDATE members SET seen_at=?, running=?, memory_level=? WHERE name=?",
                       (self.now(), running, memory_level, self.host))

    def members(self) -> list[Member]:
        now = self.now()
        with self._lock:
            rows = self._db.execute("SELECT * FROM members ORDER BY name").fetchall()
        return [Member(r["name"], r["version"], max(0.0, now - r["seen_at"]), r["running"],
                       r["memory_level"]) for r in rows]

    def running_jobs(self) -> list[Job]:
        with self._lock:
            rows = self._db.execute(f"SELECT * FROM jobs WHERE state={sql.RUNNING}"
                                    " ORDER BY id").fetchall()
        return [Job.from_row(r) for r in rows]
