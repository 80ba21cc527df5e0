"""A settled file in the inbox becomes a queued job, a duplicate, or a failed job.

The inbox decides *when* a file is ready (it stopped changing); this decides
*what* it is: audio we have already transcribed under another name (by
content hash), a file that cannot be read at all, or new work. Each outcome
is recorded in the job store before anything else happens to the file.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import stat
from collections.abc import Callable
from pathlib import Path

from voxtrald.config import Config
from voxtrald.events import EventLog
from voxtrald.files import hashing
from voxtrald.jobs import sources
from voxtrald.jobs.disposal import Disposal
from voxtrald.states import EventType, JobState
from voxtrald.store.errors import StoreUnavailable
from voxtrald.store.health import storage_fault
from voxtrald.store.jobs import JobStore

log = logging.getLogger("voxtrald")
NOT_FOLLOWED = ("a link or another special file, not a regular file: links are not followed; "
                "put the recording itself in the inbox")


class Intake:
    def __init__(self, store: JobStore, cfg: Config, events: EventLog, disposal: Disposal,
                 wake: Callable[[], None]) -> None:
        self.store = store
        self.cfg = cfg
        self.events = events
        self.disposal = disposal
        self.wake = wake

    def is_known(self, path: Path, st: os.stat_result) -> bool:
        """This exact file (path, size, mtime) already has a job: the inbox need not hash it."""
        return self.store.known_version(str(path), st.st_size, st.st_mtime)

    def _rel_dir(self, path: Path) -> str:
        try:
            rel = path.parent.relative_to(self.cfg.paths.inbox)
        except ValueError:
            return ""
        return "" if str(rel) == "." else str(rel)

    def take(self, path: Path) -> None:
        """Called by the inbox once per settled file (and again if it changes).

        While the store cannot be written (a full disk), files are left in the
        inbox untouched, one tried now and then; the next scan after the store
        works again takes them all. Nothing is logged per file: the store's
        health says what is wrong, once.
        """
        health = self.store.health
        if not health.may_try():
            return
        try:
            self._take(path)
        except (sqlite3.Error, StoreUnavailable, OSError) as exc:
            if health.problem() is None or storage_fault(exc) is None:
                raise

    def _take(self, path: Path) -> None:
        st = path.lstat()
        rel_dir = self._rel_dir(path)
        error = None
        digest = None
        if stat.S_ISLNK(st.st_mode):
            # Another user who can write to a shared inbox must not get the transcript
            # of whatever this user can read.
            error = NOT_FOLLOWED
        elif not stat.S_ISREG(st.st_mode):
            error = "not a regular file"
        elif st.st_size == 0:
            if sources.download_in_progress(path):
                log.info("%s is empty while its download runs; waiting for it", path.name)
                return
            error = "the file is empty (0 bytes)"
        elif self.store.hash_at_intake:
            # The team queue hashes after the claim: only the machine that wins a
            # file of a shared inbox reads it.
            try:
                digest = hashing.sha256_of(path)
            except hashing.NotRegular:
                error = NOT_FOLLOWED  # swapped for a link or a pipe after the look
            except PermissionError:
                error = "the file cannot be read (permission denied)"
            except FileNotFoundError:
                log.info("%s vanished before it could be queued", path.name)
                return
        if error and self.store.pending_for(str(path)):
            log.info("%s changed while its job waited or ran: %s", path.name, error)
            return
        if error:
            failed = self.store.add_failed(str(path), path.name, rel_dir, st.st_size,
                                           st.st_mtime, error)
            if failed is None:
                return  # another machine on the shared inbox recorded it first
            log.warning("job %d %s failed: %s", failed.id, path.name, error)
            self.disposal.set_aside(failed, error)
            self.events.emit(EventType.JOB_FAILED, id=failed.id, file=failed.file, error=error,
                             final=True)
            return
        job, refreshed = self.store.add(str(path), path.name, rel_dir, digest, st.st_size,
                                        st.st_mtime, self.cfg.jobs.max_attempts)
        if refreshed:
            log.info("%s changed while job %d waited or ran; it will be transcribed as it is now",
                     path.name, job.id)
            return
        if job.state == JobState.DUPLICATE:
            log.info("%s is the same audio as job %d; not transcribing it again",
                     path.name, job.duplicate_of)
            self.disposal.finish(job)
            return
        log.info("queued job %d: %s", job.id, path.name)
        self.wake()
