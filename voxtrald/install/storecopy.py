"""The job store across an update: a backup before the switch, a readable store after a rollback.

Before a new version first starts, the store is copied as the previous
version left it (SQLite's backup API: consistent even with a write-ahead
log). Rolling back keeps the live store when the previous version can read
it (the same schema). When the new version migrated it, the previous
version's copy is taken and every row the new version holds is carried into
it, column by column where both schemas have the column, so files dropped or
finished while the new version ran are neither lost nor transcribed twice.
Only if that fails is the plain backup used, and the log says what was lost.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from voxtrald.files import atomic
from voxtrald.install.layout import sync_dir
from voxtrald.store.search import refill_words

log = logging.getLogger("voxtrald.install")

STORE = "jobs.sqlite3"


def store_path(state_dir: Path) -> Path:
    return state_dir / STORE


def schema_version(path: Path) -> int:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return int(db.execute("PRAGMA user_version").fetchone()[0])
    finally:
        db.close()


def backup(state_dir: Path, target: Path) -> bool:
    """Copy the store to `target` (atomically); False when there is no store yet."""
    live = store_path(state_dir)
    if not live.is_file():
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f"{atomic.TEMP_PREFIX}{target.name}{atomic.TEMP_SUFFIX}")
    tmp.unlink(missing_ok=True)
    source = sqlite3.connect(live)
    try:
        dest = sqlite3.connect(tmp)
        try:
            source.backup(dest)
        finally:
            dest.close()
    finally:
        source.close()
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, target)
    sync_dir(target.parent)
    return True


def _columns(db: sqlite3.Connection, schema: str, table: str) -> list[str]:
    return [row[1] for row in db.execute(f'PRAGMA {schema}.table_info("{table}")')]


def _carry(db: sqlite3.Connection, states: Iterable[str]) -> None:
    """Replace every table of `main` with the rows of `new`, in the columns both have."""
    tables = [row[0] for row in db.execute(
        "SELECT name FROM main.sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")]
    newer = {row[0] for row in db.execute(
        "SELECT name FROM new.sqlite_master WHERE type='table'")}
    # Full-text tables (and the tables behind them) are not rows to copy: their words are
    # made again from the segments once those are carried.
    virtual = [row[0] for row in db.execute(
        "SELECT name FROM main.sqlite_master WHERE type='table' AND sql LIKE 'CREATE VIRTUAL%'")]
    known = list(states)
    for table in tables:
        if table not in newer or any(table == v or table.startswith(v + "_") for v in virtual):
            continue
        wanted = set(_columns(db, "new", table))
        cols = [c for c in _columns(db, "main", table) if c in wanted]
        names = ", ".join(f'"{c}"' for c in cols)
        where = ""
        if table == "jobs" and "state" in cols and known:
            # A state the previous version does not know would stop it at start-up.
            where = " WHERE state IN (" + ", ".join("?" for _ in known) + ")"
        db.execute(f'DELETE FROM main."{table}"')
        db.execute(f'INSERT INTO main."{table}" ({names}) SELECT {names} FROM new."{table}"'
                   + where, known if where else [])
    if "transcript_fts" in virtual and "transcript_segments" in tables:
        # Segments of jobs the older version does not keep would be found without a job.
        db.execute("DELETE FROM main.transcript_segments WHERE job_id NOT IN "
                   "(SELECT id FROM main.jobs)")
        refill_words(db)


def restore_for(state_dir: Path, saved: Path | None, schema: int,
                states: Iterable[str] = ()) -> str:
    """Leave a store that a version with `schema` reads; says what was done."""
    live = store_path(state_dir)
    if not live.is_file():
        return "no store"
    try:
        found = schema_version(live)
    except sqlite3.Error as exc:
        found = schema + 1
        log.warning("the job store cannot be read (%s); restoring the backup", exc)
    if found <= schema:
        return "kept"
    if saved is None or not saved.is_file():
        log.error("the job store has schema %d, the previous version reads %d, and no "
                  "backup exists; it will refuse the store", found, schema)
        return "no backup"
    tmp = live.with_name(f"{atomic.TEMP_PREFIX}restore{atomic.TEMP_SUFFIX}")
    tmp.unlink(missing_ok=True)
    shutil.copyfile(saved, tmp)
    how = "carried"
    db = sqlite3.connect(tmp, isolation_level=None)
    try:
        db.execute("ATTACH DATABASE ? AS new", (str(live),))
        db.execute("BEGIN")
        try:
            _carry(db, states)
            db.execute("COMMIT")
        except sqlite3.Error as exc:
            db.execute("ROLLBACK")
            how = "backup"
            log.error("could not carry the jobs recorded since the update into the restored "
                      "store (%s); files finished since then may be transcribed again", exc)
        db.execute("DETACH DATABASE new")
    finally:
        db.close()
    _quiesce(live)
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, live)
    sync_dir(state_dir)
    return how


def _quiesce(live: Path) -> None:
    """Fold the live store's write-ahead log in and remove it, so it cannot meet another file."""
    with contextlib.suppress(sqlite3.Error):
        db = sqlite3.connect(live)
        try:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            db.close()
    for suffix in ("-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            live.with_name(live.name + suffix).unlink()
