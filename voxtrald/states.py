"""Names shared by the daemon, the API, the CLI and the tray, each declared once.

They are StrEnums so they travel through JSON and SQLite as plain strings
(`JobState.DONE == "done"`), while code that misspells one fails at import
or in the type checker instead of silently matching nothing.
"""

from __future__ import annotations

from enum import StrEnum


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    DUPLICATE = "duplicate"
    # Skipped on request: its file stays where it is, untranscribed, until retried.
    CANCELLED = "cancelled"


#: The states' names, for argument choices and query checks.
JOB_STATE_NAMES = tuple(s.value for s in JobState)
#: Jobs that still have work ahead of them (and may be cancelled).
PENDING_STATES = (JobState.QUEUED, JobState.RUNNING)
#: Jobs that may be queued again by request: failed ones, and cancelled ones ("anyway").
RETRYABLE_STATES = (JobState.FAILED, JobState.CANCELLED)


class MemoryLevel(StrEnum):
    NORMAL = "normal"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """0, 1, 2: levels compare by severity, not alphabetically."""
        return _RANK[self]


_RANK = {MemoryLevel.NORMAL: 0, MemoryLevel.WARNING: 1, MemoryLevel.CRITICAL: 2}


class DaemonState(StrEnum):
    IDLE = "idle"
    TRANSCRIBING = "transcribing"
    PAUSED = "paused"


class EventType(StrEnum):
    """What an entry of the event log (`GET /api/events`) reports, in its `type` field."""

    JOB_STARTED = "job_started"
    JOB_DONE = "job_done"
    JOB_FAILED = "job_failed"
    JOB_CANCELLED = "job_cancelled"
    # The team queue: a job whose machine went silent is queued again for another.
    JOB_REQUEUED = "job_requeued"
    PAUSED = "paused"
    RESUMED = "resumed"
    MEMORY_NORMAL = "memory_normal"
    MEMORY_WARNING = "memory_warning"
    MEMORY_CRITICAL = "memory_critical"
    UPDATE_AVAILABLE = "update_available"
    UPDATE_FAILED = "update_failed"
    UPDATE_RESTARTING = "update_restarting"
    UPDATE_APPLIED = "update_applied"
    UPDATE_ROLLED_BACK = "update_rolled_back"


#: The event each memory level announces when it is entered.
MEMORY_EVENTS = {MemoryLevel.NORMAL: EventType.MEMORY_NORMAL,
                 MemoryLevel.WARNING: EventType.MEMORY_WARNING,
                 MemoryLevel.CRITICAL: EventType.MEMORY_CRITICAL}
