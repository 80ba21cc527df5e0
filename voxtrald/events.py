"""A sequence-numbered, bounded log of what happened, for long-polling clients.

Clients remember the last sequence number they saw, so a tray that was away
catches up on what it missed, and is told (`gap`) when it fell so far behind
that the ring buffer no longer holds everything.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from voxtrald.bodies import Event, EventsPage
from voxtrald.states import EventType

# How often a long-poll asks whether its client is still there.
CANCEL_CHECK_SECONDS = 0.5


def utc_now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class EventLog:
    def __init__(self, capacity: int = 1000) -> None:
        self._events: deque[Event] = deque(maxlen=capacity)
        self._seq = 0
        self._cond = threading.Condition()
        # Changes at every daemon start, so a client can tell numbering began again.
        self.instance = secrets.token_hex(8)

    @property
    def last_seq(self) -> int:
        with self._cond:
            return self._seq

    def emit(self, type_: EventType, **data: Any) -> int:
        """Log one event of a declared type; its number, for tests and catch-up."""
        if not isinstance(type_, EventType):  # a bare string would reach clients unchecked
            raise TypeError(f"event type must be an EventType, not {type_!r}")
        with self._cond:
            self._seq += 1
            self._events.append(
                Event(seq=self._seq, type=str(type_), time=utc_now_iso(), data=data)
            )
            self._cond.notify_all()
            return self._seq

    def since(
        self, after: int, timeout: float = 0.0, cancelled: Callable[[], bool] | None = None
    ) -> EventsPage:
        """Events with seq > after, waiting up to `timeout` seconds for one.

        Only a client that is exactly up to date waits: one whose `after` is
        beyond our numbering holds a number from before a restart, and waiting
        would only delay its resync. `cancelled` is asked about twice a second
        so a long-poll whose client has left gives up its connection slot
        instead of holding it for the whole timeout.
        """
        deadline = time.monotonic() + max(0.0, timeout)
        while True:
            with self._cond:
                remaining = deadline - time.monotonic()
                if self._seq != after or remaining <= 0:
                    return self._result(after)
                self._cond.wait(remaining if cancelled is None
                                else min(remaining, CANCEL_CHECK_SECONDS))
                if self._seq != after:
                    return self._result(after)
            # Outside the lock: the check may be a system call.
            if cancelled is not None and cancelled():
                with self._cond:
                    return self._result(after)

    def _result(self, after: int) -> EventsPage:
        events = [e for e in self._events if e["seq"] > after]
        oldest = self._events[0]["seq"] if self._events else self._seq + 1
        # A client whose `after` is older than what we still hold missed some.
        gap = after < self._seq and after + 1 < oldest
        if after > self._seq:
            # The daemon restarted and numbering began again: resend all.
            events = list(self._events)
            gap = True
        return EventsPage(events=events, last_seq=self._seq, gap=gap, instance=self.instance)
