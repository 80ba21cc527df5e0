"""Why a request about a job was refused, as types, so the API can tell them apart.

An unknown job used to be a bare KeyError, which any bug could also raise and
which the API would then have reported as "no such job". These are raised
only on purpose; the routes decide which HTTP status each one becomes.
"""

from __future__ import annotations


class JobRefused(Exception):
    """A request about a job that cannot be done; the message says why, for the user."""


class JobNotFound(JobRefused, LookupError):
    def __init__(self, job_id: int) -> None:
        super().__init__(f"no job with id {job_id}")
        self.job_id = job_id


class NotRetryable(JobRefused):
    """The job exists but cannot be queued again (not failed, source gone, already pending)."""


class NotCancellable(JobRefused):
    """The job exists but has nothing left to cancel (done, failed, a duplicate, finishing)."""
