"""What can go wrong with the job store, in the words the rest of the daemon acts on.

The single-machine store is SQLite; the team queue is PostgreSQL. Callers that
tolerate a store that is away for a moment (progress figures, checkpoints,
intake) catch `STORE_ERRORS` and need not know which one is behind the store.
"""

from __future__ import annotations

import sqlite3


class StoreUnavailable(Exception):
    """The team queue's database cannot be reached (restarting, network gone, refused)."""


class ClaimLost(Exception):
    """This machine no longer holds the job: another took it over after its lease ran out.

    Whatever this machine still has of the job is dropped, never written: the
    claim's token no longer matches, so the job belongs to its new holder.
    """


class ClaimsRefused(Exception):
    """The team queue's schema is newer than this daemon: it takes no job until updated."""


#: Errors of a store that may work again later; callers that can wait catch these.
STORE_ERRORS: tuple[type[BaseException], ...] = (sqlite3.Error, StoreUnavailable)
