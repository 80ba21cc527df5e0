"""The JSON bodies the control API answers with, declared once as TypedDicts.

The daemon builds them (api/control.py, the memory sampler, the update
checker) and the type checker holds every builder to the same keys, so a key
renamed on one side cannot silently vanish from another. At run time they
are plain dicts: what goes on the wire is unchanged. Only the standard
library and the shared names are imported here, so a client may use them too.
"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict


class Folders(TypedDict):
    inbox: str
    transcripts: str
    processed: str
    failed: str


class CurrentJob(TypedDict):
    """The running job in /api/status: live progress, not yet in the store."""

    id: int
    file: str
    percent: float
    eta_seconds: float | None
    started_at: str
    attempt: int


class WorkerInfo(TypedDict):
    loaded: bool
    pid: int | None


class MemorySummary(TypedDict):
    """The memory part of /api/status (GET /api/system/memory has the full reading)."""

    level: str  # a MemoryLevel
    percent: float | None
    available_gb: float | None
    message: str
    limit: str | None  # "host" or "cgroup"


class UpdateSummary(TypedDict):
    """The update part of /api/status (GET /api/updates/check has the whole release)."""

    update_available: bool
    current_version: str
    latest_version: str | None
    release_url: str | None
    dismissed: bool
    error: str | None
    rolled_back: bool
    can_apply: bool


class UpdateCheck(TypedDict):
    """GET /api/updates/check (and what dismissing answers): the offered release in full."""

    update_available: bool
    current_version: str
    latest_version: str | None
    release_name: str | None
    release_notes: str | None
    release_url: str | None
    download_url: str | None
    published_at: str | None
    prerelease: bool
    dismissed: bool
    error: str | None
    checked_at: str | None
    channel: str
    rolled_back: bool  # installed here once, failed its trial, put back: not offered again
    rolled_back_reason: str | None
    can_apply: bool


class TeamMember(TypedDict):
    """One machine of a team sharing a queue, as the queue last heard from it."""

    name: str
    version: str
    seen_seconds_ago: float
    running: int | None  # the id of the job it runs
    memory_level: str | None


class Team(TypedDict):
    """The team queue (absent when this machine works alone)."""

    queue: str  # where it is, without a password
    machine: str  # this daemon's name in the team
    members: list[TeamMember]
    reachable: bool


class Status(TypedDict):
    """GET /api/status: one poll for the tray and `voxtrald status`."""

    version: str
    app_name: str
    instance: str
    state: str  # a DaemonState
    paused: bool
    waiting_reason: str | None
    held: list[dict[str, Any]]  # folders held by a broken rules file, and why
    queue: dict[str, int]  # a count for every JobState
    current_job: CurrentJob | None
    folders: Folders
    worker: WorkerInfo
    memory: MemorySummary | None
    update: UpdateSummary | None
    events_last_seq: int
    team: NotRequired[Team]


class Health(TypedDict):
    """What control reports for GET /api/health (the route adds version and uptime)."""

    ok: bool
    problems: list[str]


class Job(TypedDict):
    """GET /api/jobs/{id} and each of GET /api/jobs: a job as clients see it (ISO times)."""

    id: int
    source_path: str
    file: str
    sha256: str | None
    size: int | None
    state: str  # a JobState
    attempts: int
    max_attempts: int
    created_at: str | None
    started_at: str | None
    finished_at: str | None
    next_attempt_at: str | None
    duration: float | None
    wall_seconds: float | None
    percent: float
    eta_seconds: float | None
    error: str | None
    duplicate_of: int | None
    outputs: list[str]
    language: str | None
    language_probability: float | None
    warnings: list[str]
    host: NotRequired[str | None]  # the machine that holds or held it


class JobList(TypedDict):
    jobs: list[Job]
    count: int


#: A body no TypedDict describes yet (the full memory reading, an update check).
Body = dict[str, Any]
