"""The parts a daemon adds when it shares a team queue, built in one place.

On one machine none of these exist. On a team: the lease thread (claims
renewed, dead machines' jobs queued again), the check that the shared
folders can be written from here, the team's view in the status, and an
inbox scanned often enough to see files other machines dropped.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from voxtrald.config import Config
from voxtrald.events import EventLog
from voxtrald.jobs.lease import TeamLease
from voxtrald.jobs.runner import JobRunner
from voxtrald.jobs.share_check import ShareCheck
from voxtrald.store.jobs import JobStore
from voxtrald.store.pg.team import TeamStore

log = logging.getLogger("voxtrald")
SHARED_FOLDERS = ("inbox", "transcripts", "processed", "failed")


def share_check(cfg: Config, store: JobStore) -> ShareCheck:
    folders = SHARED_FOLDERS if store.team else ()
    return ShareCheck([(name, getattr(cfg.paths, name)) for name in folders])


def scan_interval(cfg: Config, store: JobStore) -> float:
    """How often the inbox is scanned: other machines' files raise no event here."""
    if not store.team:
        return cfg.inbox.scan_interval_seconds
    scan = min(cfg.inbox.scan_interval_seconds, cfg.queue.scan_seconds)
    log.info("team queue: the shared inbox is scanned every %.0f s", scan)
    return scan


def lease(store: JobStore, runner: JobRunner, memory_level: Callable[[], str],
          wake: Callable[[], None], events: EventLog,
          stopping: threading.Event) -> TeamLease | None:
    if not isinstance(store, TeamStore):
        return None
    return TeamLease(store, lambda: runner.claimed, memory_level, runner.claim_lost, wake,
                     events, stopping)
