"""The team queue's pulse: this machine's claim renewed, dead machines' jobs taken back.

Every `lease_seconds / 4` this thread, on each machine of a team:
- follows the database server's clock (no decision uses this machine's);
- says the machine is alive, what it runs and its memory level (`members`);
- renews the lease of the job it runs; a lease found lost (this machine was
  away longer than the lease, and another took the job over) is handed to
  the runner, which drops the job at once and writes nothing;
- queues again every job whose lease ran out: its machine died or lost the
  network, and the job resumes from its checkpoints on whichever machine
  claims it next;
- checks the schema version, so a daemon older than the queue stops claiming.
While the database is away it keeps trying; the store's health says so.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from voxtrald.events import EventLog
from voxtrald.states import EventType
from voxtrald.store.errors import StoreUnavailable
from voxtrald.store.pg.team import TeamStore

log = logging.getLogger("voxtrald")


class TeamLease:
    def __init__(self, store: TeamStore, running: Callable[[], int | None],
                 memory_level: Callable[[], str], on_lost: Callable[[int], None],
                 wake: Callable[[], None], events: EventLog, stopping: threading.Event) -> None:
        self.store = store
        self.running = running
        self.memory_level = memory_level
        self.on_lost = on_lost
        self.wake = wake
        self.events = events
        self.stopping = stopping
        self.interval = max(0.5, store.lease_seconds / 4)
        self._thread: threading.Thread | None = None
        self._refused: str | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="team-lease", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._thread.join(timeout=5)

    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _loop(self) -> None:
        while not self.stopping.is_set():
            try:
                self.tick()
            except StoreUnavailable as exc:
                self.store.health.failed(exc)
            except Exception:
                log.exception("team queue upkeep failed; trying again")
            self.stopping.wait(self.interval)

    def tick(self) -> None:
        store = self.store
        store.refresh_clock()
        job_id = self.running()
        store.beat(job_id, self.memory_level())
        if job_id is not None:
            for lost in store.renew([job_id]):
                log.warning("job %d: this machine's claim on it ended (its lease ran out and "
                            "another machine took it over, or it was cancelled); dropping it "
                            "here", lost)
                self.on_lost(lost)
        taken = store.reclaim_expired()
        for taken_id, host in taken:
            log.warning("job %d: its machine %s has not been heard from for %.0f s; queued "
                        "again, to resume from its last checkpoint", taken_id, host or "?",
                        store.lease_seconds)
            self.events.emit(EventType.JOB_REQUEUED, id=taken_id, machine=host)
        if taken:
            self.wake()
        refused = store.check_schema()
        if refused != self._refused:
            self._refused = refused
            if refused:
                log.error("no new job is taken: %s", refused)
        store.health.succeeded()
