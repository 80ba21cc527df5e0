"""`voxtrald queue check`: can this machine use the team queue its config names?

It runs without the daemon and changes nothing: it connects, reads the
schema version, the role's rights, the server's clock against this
machine's, and who is in the team, and says in one line per point what is
wrong. Run it on each machine while setting a team up.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

import psycopg

from voxtrald import exit_codes
from voxtrald.config import ConfigError, load
from voxtrald.store.errors import StoreUnavailable
from voxtrald.store.pg import dsn as team_dsn
from voxtrald.store.pg.connection import SCHEMA, PgConnection, Row, describe
from voxtrald.store.pg.schema import TEAM_SCHEMA_VERSION, found_version, newer_than_this

TABLES = ("jobs", "chunks", "transcript_segments", "members", "member_settings",
          "voxtral_meta")


def run_check(config: Path | None) -> int:
    """`voxtrald queue check`: the exit code, after saying what was found."""
    try:
        cfg = load(config)
    except ConfigError as exc:
        print(f"error: {exc}")
        return exit_codes.ERROR
    if not team_dsn.is_team(cfg.queue.backend):
        print('This machine works alone ([queue] backend = "sqlite"): there is no team '
              "queue to check. See docs/team.md to share one queue between machines.")
        return exit_codes.OK
    try:
        dsn = team_dsn.resolve(cfg.queue.backend)
    except team_dsn.DsnError as exc:
        print(f"error: {exc}")
        return exit_codes.ERROR
    problems = check(dsn, cfg.queue.machine_name or socket.gethostname())
    if problems:
        for problem in problems:
            print(f"error: {problem}")
        return exit_codes.ERROR
    print("OK: this machine can use the team queue.")
    return exit_codes.OK


def _one(conn: PgConnection, sql: str, args: tuple[object, ...] = ()) -> Row:
    row = conn.execute(sql, args).fetchone()
    if row is None:
        raise StoreUnavailable("the server answered nothing")
    return row


def check(dsn: str, name: str) -> list[str]:
    """Print what the queue looks like from here; returns the problems found."""
    where = team_dsn.shown(dsn)
    print(f"Team queue: {where}")
    conn = PgConnection(dsn)
    started = time.monotonic()
    try:
        row = _one(conn, "SELECT current_setting('server_version') AS v,"
                   " extract(epoch from clock_timestamp())::float8 AS t, current_user AS u")
    except StoreUnavailable as exc:
        return [f"cannot reach {where}: {exc}"]
    took = time.monotonic() - started
    print(f"  server:   PostgreSQL {row['v']}, answered in {took * 1000:.0f} ms as {row['u']}")
    skew = float(row["t"]) - time.time()
    print(f"  clock:    the server's is {abs(skew):.1f} s {'ahead of' if skew >= 0 else 'behind'}"
          " this machine's (the queue goes by the server's)")
    problems: list[str] = []
    try:
        problems += _schema_and_rights(conn)
        if not problems and found_version(conn):
            _team(conn, name)
    except psycopg.Error as exc:  # a right the role lacks, most likely
        problems.append(f"the role may not use the queue's tables: {describe(exc)}")
    finally:
        conn.close()
    return problems


def _schema_and_rights(conn: PgConnection) -> list[str]:
    exists = _one(conn, "SELECT count(*) AS n FROM pg_namespace WHERE nspname=?",
                  (SCHEMA,))["n"] > 0
    if not exists:
        may_create = _one(
            conn, "SELECT has_database_privilege(current_database(), 'CREATE') AS ok")
        print(f"  schema:   none yet; the first daemon creates it (version "
              f"{TEAM_SCHEMA_VERSION})")
        if not may_create["ok"]:
            return [f"the role may not create the schema {SCHEMA!r} in this database: "
                    "GRANT CREATE ON DATABASE to it, or create the database owned by it"]
        return []
    missing = [t for t in TABLES if not _one(
        conn, "SELECT CASE WHEN to_regclass(?) IS NULL THEN false ELSE has_table_privilege(?,"
        " 'SELECT,INSERT,UPDATE,DELETE') END AS ok", (f"{SCHEMA}.{t}", f"{SCHEMA}.{t}"))["ok"]]
    if missing:
        return ["the role may not read and write " + ", ".join(missing)
                + f" in the schema {SCHEMA!r}: grant it those rights, or use the role that "
                "owns the database"]
    version = found_version(conn)
    print(f"  schema:   version {version} (this voxtrald writes {TEAM_SCHEMA_VERSION})")
    print("  rights:   reads and writes the queue's tables")
    return [reason] if (reason := newer_than_this(version)) else []


def _team(conn: PgConnection, name: str) -> None:
    rows = conn.execute("SELECT name, running, extract(epoch from clock_timestamp())::float8"
                        " - seen_at AS ago FROM members ORDER BY name").fetchall()
    seen = ", ".join(f"{r['name']} ({'running #' + str(r['running']) if r['running'] else 'idle'}"
                     f", heard {r['ago']:.0f} s ago)" for r in rows) or "none yet"
    print(f"  machines: {seen}")
    counts = conn.execute("SELECT state, COUNT(*) AS n FROM jobs GROUP BY state"
                          " ORDER BY state").fetchall()
    print("  jobs:     " + (", ".join(f"{r['n']} {r['state']}" for r in counts) or "none yet"))
    print(f"  this machine joins as {name!r}")
