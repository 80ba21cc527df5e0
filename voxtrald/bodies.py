"""The JSON bodies the control API answers with, declared once as TypedDicts.

The daemon builds them (api/control.py, the memory sampler and report, the
update checker and applier) and the type checker holds every builder to the
same keys, so a key renamed on one side cannot silently vanish from another.
Clients read them back into the same types with `voxtrald.client.read`, whose
one tolerant reader follows these declarations. At run time they are plain
dicts: what goes on the wire is unchanged. Only `typing` is imported here, so
any client may use them.
"""

from __future__ import annotations

from typing import Any, TypedDict


class ErrorDetail(TypedDict):
    code: str  # for scripts: bad_parameter, job_not_found, busy, ...
    message: str  # for people


class ErrorReply(TypedDict):
    """Every 4xx and 5xx answer."""

    error: ErrorDetail


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


class _OnATeam(TypedDict, total=False):
    team: Team  # only when the daemon shares a team queue


class Status(_OnATeam):
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


class Health(TypedDict):
    """What control reports for GET /api/health (the route adds version and uptime)."""

    ok: bool
    problems: list[str]


class _HeldBy(TypedDict, total=False):
    host: str | None  # the machine that holds or held it (a team queue only)


class Job(_HeldBy):
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


class JobList(TypedDict):
    jobs: list[Job]
    count: int


class HealthReport(Health):
    """GET /api/health: control's verdict, and which daemon gave it."""

    version: str
    instance: str
    uptime_seconds: float


class VersionInfo(TypedDict):
    """GET /api/version."""

    version: str
    app_name: str


class Event(TypedDict):
    seq: int
    type: str  # an EventType
    time: str
    data: dict[str, Any]  # per type; see docs/api.md


class EventsPage(TypedDict):
    """GET /api/events: the events after a number, and where numbering stands."""

    events: list[Event]
    last_seq: int
    gap: bool  # some events after `after` are no longer held
    instance: str


# -- GET /api/system/memory --------------------------------------------------------------


class HostMemory(TypedDict):
    total_gb: float
    available_gb: float
    percent: float


class CgroupMemory(TypedDict):
    version: int
    path: str
    limit_gb: float
    used_gb: float
    inactive_file_gb: float
    percent: float


class SystemMemory(TypedDict):
    """The limit in force (host or cgroup); all None before the first reading."""

    total_gb: float | None
    available_gb: float | None
    used_gb: float | None
    percent: float | None
    status: str  # a MemoryLevel
    limit: str | None
    host: HostMemory | None
    cgroup: CgroupMemory | None


class ProcessUse(TypedDict):
    """The daemon's own memory, and with its worker's (`total_*`)."""

    pid: int | None
    rss_mb: float | None
    vms_mb: float | None
    percent: float | None
    total_rss_mb: float | None
    total_percent: float | None


class WorkerUse(TypedDict):
    pid: int
    rss_mb: float
    vms_mb: float
    percent: float | None


class SwapUse(TypedDict):
    total_gb: float
    used_gb: float
    percent: float


class Pressure(TypedDict):
    """Linux pressure stall information (PSI), where the kernel has it."""

    some_avg10: float
    some_avg60: float
    full_avg10: float | None
    full_avg60: float | None


class MemoryTrend(TypedDict):
    rate_mb_per_s: float | None
    seconds_to_critical: float | None
    window_seconds: float


class TopProcess(TypedDict):
    name: str
    pid: int
    rss_mb: float


class Thresholds(TypedDict):
    warning_percent: float
    critical_percent: float
    hysteresis_percent: float


class MemoryReport(TypedDict):
    """GET /api/system/memory: the last sample in full."""

    level: str  # a MemoryLevel
    system: SystemMemory
    process: ProcessUse
    worker: WorkerUse | None
    swap: SwapUse | None
    limit: str | None
    psi: Pressure | None
    trend: MemoryTrend
    top_processes: list[TopProcess] | None  # only with ?top=1
    message: str
    thresholds: Thresholds
    interval_seconds: float
    sampled_at: str | None
    problems: list[str]


class MemoryEvent(TypedDict):
    """The data of a memory_warning, memory_critical or memory_normal event."""

    level: str
    previous: str
    percent: float
    available_gb: float
    total_gb: float
    limit: str
    worker_rss_mb: float | None
    message: str
    reminder: bool
    top_processes: list[TopProcess]


# -- POST /api/updates/download, /api/updates/apply, /api/updates/rollback ----------------


class StagedUpdate(TypedDict):
    """A downloaded, verified release wheel waiting to be installed."""

    version: str
    file: str
    sha256: str
    size: int
    signed_by: str
    source_url: str
    release_url: str | None
    staged_at: str
    signed_at: int | None  # when the key signed it, from the trusted comment
    path: str


class _DownloadOutcome(TypedDict):
    staged: bool
    error: str | None
    code: str | None  # why nothing was staged, for scripts


class Download(_DownloadOutcome, total=False):
    """POST /api/updates/download: the outcome, with the staged update's keys when staged.

    StagedUpdate's keys, repeated: a TypedDict cannot take another's keys as optional
    (tests/unit/api/test_bodies.py keeps the two the same)."""

    version: str
    file: str
    sha256: str
    size: int
    signed_by: str
    source_url: str
    release_url: str | None
    staged_at: str
    signed_at: int | None
    path: str


class ApplyState(TypedDict):
    """POST /api/updates/apply (202): an apply that started, and its first step."""

    state: str  # idle, downloading, installing, testing, restarting, failed, rolling back
    version: str | None
    error: str | None
    code: str | None


class ApplyStatus(ApplyState):
    """GET /api/updates/apply: what an apply is doing, and what this install can do."""

    install: str  # the kind of install (root, venv, source, ...)
    root: str | None
    can_apply: bool
    how_to_update: str | None
    versions: list[str]


class RollbackStarted(TypedDict):
    """POST /api/updates/rollback (202): the version left and the one put back."""

    rolling_back: bool
    version: str
    previous: str
