"""What must hold before the daemon serves: one daemon per state folder, its folders, its store.

Each check ends in a StartupError whose message is the one line the user
sees, instead of a traceback or a daemon that half-works.
"""

from __future__ import annotations

import logging
import socket
import sqlite3
from pathlib import Path

import psycopg

from voxtrald.config import Config
from voxtrald.files import atomic
from voxtrald.files.locks import AlreadyLocked, LockError, LockFile
from voxtrald.files.private import NotPrivate, private_folder
from voxtrald.store.db import machine_name as default_machine_name
from voxtrald.store.errors import StoreUnavailable
from voxtrald.store.jobs import JobStore
from voxtrald.store.migrations import NewerSchema
from voxtrald.store.pg import dsn as team_dsn
from voxtrald.store.pg.connection import describe
from voxtrald.store.pg.schema import SchemaError
from voxtrald.store.pg.team import TeamConflict, TeamStore
from voxtrald.version import current_version

log = logging.getLogger("voxtrald")


class StartupError(Exception):
    """Start-up cannot go on; the message is the one line the user sees."""


def prepare_folders(cfg: Config) -> None:
    p = cfg.paths
    if not p.inbox.is_dir():
        try:
            p.inbox.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StartupError(f"cannot create the inbox {p.inbox}: {exc.strerror or exc}"
                               ) from exc
        log.warning("inbox %s was missing; created it", p.inbox)
    for name, folder in (("transcripts", p.transcripts), ("processed", p.processed),
                         ("failed", p.failed)):
        try:
            atomic.ensure_folder(folder)
        except OSError as exc:
            log.error("cannot create the %s folder %s: %s", name, folder, exc)
    # Temps are never finished files: whatever an earlier stop left mid-write goes.
    removed = sum(atomic.remove_stale(folder) for folder in
                  (p.transcripts, p.processed, p.failed, p.state_dir))
    if removed:
        log.info("removed %d unfinished file(s) left by an earlier stop", removed)


def machine_name(cfg: Config) -> str:
    """This daemon's name in its jobs and its team: `[queue] machine_name`, or the host's."""
    return cfg.queue.machine_name or default_machine_name()


def open_team_store(cfg: Config) -> TeamStore:
    """The team queue on PostgreSQL, joined under this machine's name."""
    try:
        dsn = team_dsn.resolve(cfg.queue.backend)
    except team_dsn.DsnError as exc:
        raise StartupError(str(exc)) from exc
    where = team_dsn.shown(dsn)
    # Which daemon this is: one per state folder (its lock), on one host.
    instance = f"{socket.gethostname()}:{cfg.paths.state_dir}"
    try:
        store = TeamStore(dsn, machine_name(cfg), instance, cfg.queue.lease_seconds)
        store.join(current_version())
    except StoreUnavailable as exc:
        raise StartupError(f"cannot reach the team queue {where}: {exc}") from exc
    except (SchemaError, TeamConflict) as exc:
        raise StartupError(f"the team queue {where}: {exc}") from exc
    except psycopg.Error as exc:  # a right the role lacks, a database that refuses
        raise StartupError(f"the team queue {where} refused this machine: "
                           f"{describe(exc)}") from exc
    log.info("team queue %s joined as %r (lease %.0f s)", where, store.host,
             cfg.queue.lease_seconds)
    return store


def open_store(cfg: Config) -> JobStore:
    if team_dsn.is_team(cfg.queue.backend):
        store: JobStore = open_team_store(cfg)
        requeued = store.requeue_interrupted()
        if requeued:
            log.info("requeued job(s) %s this machine left running at its last stop", requeued)
        return store
    path = cfg.paths.state_dir / "jobs.sqlite3"
    try:
        store = JobStore(path, machine_name(cfg))
    except NotPrivate as exc:
        raise StartupError(str(exc)) from exc
    except (sqlite3.Error, NewerSchema) as exc:
        raise StartupError(f"the job store {path} cannot be opened ({exc}); "
                           "move it aside to start afresh") from exc
    requeued = store.requeue_interrupted()
    if requeued:
        log.info("requeued job(s) %s interrupted by the last stop", requeued)
    return store


def lock_state_dir(lock: LockFile, state: Path) -> None:
    """Take the state folder for this daemon; a second daemon on it is refused by name."""
    try:
        private_folder(state, "state folder")
        lock.acquire()
    except NotPrivate as exc:
        raise StartupError(str(exc)) from exc
    except AlreadyLocked as exc:
        raise StartupError(f"another voxtrald (pid {exc.holder}) is already using the "
                           f"state folder {state}") from exc
    except (LockError, OSError) as exc:
        raise StartupError(f"cannot use the state folder {state}: {exc}") from exc
