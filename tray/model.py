"""What the tray keeps of the daemon's answers: its own view of status, events and jobs.

The JSON is read into the bodies the daemon declares (`voxtrald.bodies`) by
`voxtrald.client.read`, which is tolerant of an older or a newer daemon: a missing
or mistyped key comes as a neutral value, an unknown one is dropped. Here those
typed bodies become the few figures the tray decides on, with its own defaults
("a file" for a nameless job, "idle" for a state it does not know). The one
untyped input left is the data of an event the tray does not read as a body (a
job_done's, enriched by tray.peek). Nothing here does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from voxtrald import bodies
from voxtrald.client.read import read
from voxtrald.states import JobState, MemoryLevel

LEVELS = tuple(MemoryLevel)


def level_rank(level: str) -> int:
    """Order of memory levels; an unknown level counts as normal."""
    return MemoryLevel(level).rank if level in LEVELS else 0


@dataclass(frozen=True)
class Job:
    id: int | None
    file: str
    percent: float | None
    eta_seconds: float | None


@dataclass(frozen=True)
class Finished:
    """A job that finished: in a batch waiting to be announced, or in Recent transcripts."""

    job_id: int | None
    file: str
    transcript: str | None  # the transcript to open: the .txt if written, else the first
    # What the daemon warned about (a damaged file, audio left unheard), newest daemons only.
    warnings: tuple[str, ...] = ()
    # Read off the transcript by the tray (tray.transcript_peek), not sent by the daemon:
    # whether the text is empty (nothing usable came out) and its first line.
    empty: bool = False
    first_line: str = ""

    @property
    def partial(self) -> bool:
        return bool(self.warnings) and not self.empty

    @classmethod
    def from_job(cls, job: bodies.Job) -> Finished:
        """From a job record of GET /api/jobs."""
        return cls(job_id=job["id"], file=job["file"] or "a file",
                   transcript=pick_transcript(job["outputs"]),
                   warnings=tuple(w for w in job["warnings"] if w)[:5])

    @classmethod
    def parse(cls, raw: Any) -> Finished | None:
        """From a job_done event's data: the job's id, file, outputs and warnings, and what
        tray.peek read off the transcript (empty, first_line)."""
        if not isinstance(raw, dict) or not raw:
            return None
        job_id, file, warnings, line = (raw.get(k) for k in ("id", "file", "warnings",
                                                             "first_line"))
        return cls(
            job_id=job_id if isinstance(job_id, int) and not isinstance(job_id, bool) else None,
            file=file if isinstance(file, str) and file else "a file",
            transcript=pick_transcript(raw.get("outputs")),
            warnings=tuple(w for w in warnings if isinstance(w, str) and w)[:5]
            if isinstance(warnings, list) else (),
            empty=raw.get("empty") is True,
            first_line=line if isinstance(line, str) else "",
        )


def pick_transcript(outputs: Any) -> str | None:
    """The output a person wants to read: the plain text, else whatever was written first."""
    if not isinstance(outputs, list):
        return None
    paths = [p for p in outputs if isinstance(p, str) and p]
    for path in paths:
        if path.endswith(".txt"):
            return path
    return paths[0] if paths else None


def recent_from_jobs(answer: bodies.JobList, limit: int) -> tuple[Finished, ...]:
    """The newest finished jobs with a transcript, from a GET /api/jobs answer."""
    found = [f for f in (Finished.from_job(j) for j in answer["jobs"] if j["state"] == "done")
             if f.transcript]
    found.sort(key=lambda f: f.job_id or 0, reverse=True)
    return tuple(found[:limit])


@dataclass(frozen=True)
class Queued:
    """A file waiting in the queue view: its job (to cancel it by) and its name."""

    id: int | None
    file: str


def queue_from_jobs(answer: bodies.JobList, limit: int) -> tuple[Queued, ...]:
    """The next queued files, in the order they will run (oldest job first)."""
    queued = sorted((j for j in answer["jobs"] if j["state"] == "queued"), key=lambda j: j["id"])
    return tuple(Queued(j["id"], j["file"] or "a file") for j in queued[:limit])


@dataclass(frozen=True)
class Memory:
    level: MemoryLevel
    percent: float | None = None
    available_gb: float | None = None
    message: str = ""

    @classmethod
    def from_body(cls, body: bodies.MemorySummary | bodies.MemoryEvent) -> Memory:
        """From the memory part of /api/status, or a memory event's data."""
        level = body["level"]
        return cls(
            level=MemoryLevel(level) if level in LEVELS else MemoryLevel.NORMAL,
            percent=body["percent"],
            available_gb=body["available_gb"],
            message=body["message"],
        )


@dataclass(frozen=True)
class Update:
    available: bool
    latest_version: str | None
    release_url: str | None
    dismissed: bool
    can_apply: bool = False  # this install can apply it itself (a side-by-side install)


# The steps of an apply in progress, as GET /api/updates/apply names them; any other state
# ("idle", "failed", "rolling back") means no apply is running.
APPLY_STEPS = ("downloading", "installing", "testing", "restarting")


@dataclass(frozen=True)
class ApplyProgress:
    """GET /api/updates/apply: what an apply is doing, whoever started it."""

    state: str = "idle"
    version: str | None = None

    @property
    def running(self) -> bool:
        return self.state in APPLY_STEPS and self.version is not None

    @classmethod
    def from_body(cls, body: bodies.ApplyState) -> ApplyProgress:
        """From POST /api/updates/apply's answer or GET /api/updates/apply's."""
        return cls(state=body["state"] or "idle", version=body["version"] or None)

    @classmethod
    def parse(cls, raw: Any) -> ApplyProgress:
        """An answer of POST or GET /api/updates/apply as the tray keeps it."""
        return cls.from_body(read(bodies.ApplyStatus, raw))


@dataclass(frozen=True)
class Machine:
    """One machine of a team sharing a queue, as the queue last heard from it."""

    name: str
    running: int | None
    seen_seconds_ago: float
    memory_level: str | None


@dataclass(frozen=True)
class Team:
    """The team queue this daemon shares (None in Status when it works alone)."""

    queue: str
    machine: str
    reachable: bool
    members: tuple[Machine, ...]

    @classmethod
    def from_body(cls, body: bodies.Team) -> Team:
        return cls(queue=body["queue"], machine=body["machine"], reachable=body["reachable"],
                   members=tuple(Machine(m["name"], m["running"], m["seen_seconds_ago"],
                                         m["memory_level"]) for m in body["members"]))


@dataclass(frozen=True)
class Status:
    version: str = ""
    instance: str | None = None
    state: str = "idle"
    paused: bool = False
    waiting_reason: str | None = None
    queued: int = 0
    failed: int = 0
    done: int = 0
    job: Job | None = None
    folders: dict[str, str] = field(default_factory=dict)
    memory: Memory | None = None
    update: Update | None = None
    events_last_seq: int | None = None
    team: Team | None = None

    @classmethod
    def from_body(cls, body: bodies.Status) -> Status:
        current = body["current_job"]
        job = None if current is None else Job(
            id=current["id"],
            file=current["file"] or "a file",
            percent=current["percent"],
            eta_seconds=current["eta_seconds"],
        )
        upd = body["update"]
        update = None if upd is None else Update(
            available=upd["update_available"],
            latest_version=upd["latest_version"] or None,
            release_url=upd["release_url"] or None,
            dismissed=upd["dismissed"],
            can_apply=upd["can_apply"],
        )
        paused = body["paused"]
        state = body["state"]
        if state not in ("idle", "transcribing", "paused"):
            state = "transcribing" if job else "idle"
        if paused:
            state = "paused" if not job else state
        queue = body["queue"]
        return cls(
            version=body["version"],
            instance=body["instance"] or None,
            state=state,
            paused=paused or state == "paused",
            waiting_reason=body["waiting_reason"] or None,
            queued=queue.get(JobState.QUEUED, 0),
            failed=queue.get(JobState.FAILED, 0),
            done=queue.get(JobState.DONE, 0),
            job=job,
            folders={k: str(v) for k, v in body["folders"].items() if v},
            memory=None if body["memory"] is None else Memory.from_body(body["memory"]),
            update=update,
            events_last_seq=body["events_last_seq"],
            team=Team.from_body(body["team"]) if "team" in body else None,
        )

    @classmethod
    def parse(cls, raw: Any) -> Status:
        """A GET /api/status answer as the tray keeps it."""
        return cls.from_body(read(bodies.Status, raw))


@dataclass(frozen=True)
class Event:
    seq: int
    type: str
    data: dict[str, Any]


@dataclass(frozen=True)
class EventBatch:
    events: tuple[Event, ...]
    last_seq: int | None
    gap: bool
    instance: str | None

    @classmethod
    def from_body(cls, page: bodies.EventsPage) -> EventBatch:
        return cls(
            events=tuple(Event(e["seq"], e["type"], e["data"]) for e in page["events"]),
            last_seq=page["last_seq"],
            gap=page["gap"],
            instance=page["instance"] or None,
        )

    @classmethod
    def parse(cls, raw: Any) -> EventBatch:
        """A GET /api/events answer as the tray keeps it."""
        return cls.from_body(read(bodies.EventsPage, raw))
