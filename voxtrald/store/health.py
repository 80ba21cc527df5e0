"""Whether the job store can be written, told once per change rather than once per write.

A full disk (or one gone read-only) under the state folder makes every write
fail until space comes back. Each part that writes would otherwise log its
own traceback for every file on every scan (81,000 of them in four
minutes) while /api/health still said all was well. So the store's writes
report here: the first failure is one log line and one health problem, the
first write that succeeds again is one more line, and intake asks `may_try`
so it waits, trying one file now and then, instead of hashing the whole inbox
into errors. Files that wait stay in the inbox: nothing is lost.
"""

from __future__ import annotations

import errno
import logging
import sqlite3
import threading
import time
from collections.abc import Callable

from voxtrald.store.errors import StoreUnavailable

log = logging.getLogger("voxtrald")

#: How often intake tries one file while the store cannot be written.
RETRY_SECONDS = 10.0
# SQLite primary result codes that mean the disk, not the statement, is at fault.
_STORAGE_CODES = {8: "read-only", 10: "disk I/O error", 13: "disk full", 14: "cannot open"}


def storage_fault(exc: BaseException) -> str | None:
    """What about the disk made `exc` happen, or None when it is not the disk's fault."""
    if isinstance(exc, StoreUnavailable):
        return f"unreachable: {exc}"  # the team queue's server, not a disk
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", None)
        if code is not None and code & 0xFF in _STORAGE_CODES:
            return _STORAGE_CODES[code & 0xFF]
        text = str(exc).lower()
        if "disk is full" in text or "disk i/o" in text or "readonly" in text:
            return "disk full" if "full" in text else "disk error"
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS,
                                                   errno.EIO):
        return "disk full" if exc.errno in (errno.ENOSPC, errno.EDQUOT) else "disk error"
    return None


class StoreHealth:
    def __init__(self, where: str, clock: Callable[[], float] = time.monotonic) -> None:
        self.where = where
        self._clock = clock
        self._lock = threading.Lock()
        self._problem: str | None = None
        self._next_try = 0.0
        self.on_recover: Callable[[], None] | None = None

    def describe(self, fault: str) -> str:
        return (f"the job store {self.where} cannot be written ({fault}); new files wait in "
                "the inbox and the queue waits until it can")

    def problem(self) -> str | None:
        """The health problem while writes fail, in the user's words; None when they work."""
        return self._problem

    def failed(self, exc: BaseException) -> bool:
        """Record a failed write; True if it was the disk's fault (then the caller stays quiet)."""
        fault = storage_fault(exc)
        if fault is None:
            return False
        with self._lock:
            first = self._problem is None
            self._problem = self.describe(fault)
            self._next_try = self._clock() + RETRY_SECONDS
        if first:
            log.error("%s: %s", self._problem, exc)
        return True

    def succeeded(self) -> None:
        """A write went through: the store works (again)."""
        if self._problem is None:
            return
        with self._lock:
            was, self._problem = self._problem, None
        if was is not None:
            log.warning("the job store can be written again; taking the waiting files")
            if self.on_recover is not None:
                self.on_recover()

    def may_try(self) -> bool:
        """Whether to attempt a write now: always when it works, now and then when it does not."""
        if self._problem is None:
            return True
        with self._lock:
            now = self._clock()
            if now < self._next_try:
                return False
            self._next_try = now + RETRY_SECONDS
            return True
