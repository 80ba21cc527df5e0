"""Tolerant readers for the daemon's status and event JSON.

The tray may talk to an older or newer daemon than the one it shipped with,
so every field is optional: a missing or mistyped field becomes a neutral
default and unknown fields are ignored. Nothing here does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from voxtrald.states import MemoryLevel

LEVELS = tuple(MemoryLevel)


def level_rank(level: str) -> int:
    """Order of memory levels; an unknown level counts as normal."""
    return MemoryLevel(level).rank if level in LEVELS else 0


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: Any, default: str = "") -> str:
    return value if isinstance(value, str) else default


def _opt_str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _int(value: Any, default: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return default
    return int(value)


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
    def parse(cls, raw: Any) -> Finished | None:
        """From a job_done event's data or a job record of GET /api/jobs."""
        data = _dict(raw)
        if not data:
            return None
        job_id = data.get("id")
        warnings = data.get("warnings")
        return cls(
            job_id=job_id if isinstance(job_id, int) and not isinstance(job_id, bool) else None,
            file=_str(data.get("file"), "a file"),
            transcript=pick_transcript(data.get("outputs")),
            warnings=tuple(w for w in warnings if isinstance(w, str) and w)[:5]
            if isinstance(warnings, list) else (),
            empty=data.get("empty") is True,
            first_line=_str(data.get("first_line")),
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


def recent_from_jobs(raw: Any, limit: int) -> tuple[Finished, ...]:
    """The newest finished jobs with a transcript, from a GET /api/jobs answer."""
    jobs = _dict(raw).get("jobs")
    if not isinstance(jobs, list):
        return ()
    parsed = [Finished.parse(j) for j in jobs if _dict(j).get("state") == "done"]
    found = [f for f in parsed if f is not None and f.transcript and not f.empty]
    found.sort(key=lambda f: f.job_id or 0, reverse=True)
    return tuple(found[:limit])


@dataclass(frozen=True)
class Queued:
    """A file waiting in the queue view: its job (to cancel it by) and its name."""

    id: int | None
    file: str


def queue_from_jobs(raw: Any, limit: int) -> tuple[Queued, ...]:
    """The next queued files, in the order they will run (oldest job first)."""
    jobs = _dict(raw).get("jobs")
    if not isinstance(jobs, list):
        return ()
    queued = [_dict(j) for j in jobs if _dict(j).get("state") == "queued"]
    queued.sort(key=lambda j: _int(j.get("id")))
    return tuple(Queued(_job_id(j.get("id")), _str(j.get("file"), "a file"))
                 for j in queued[:limit])


def _job_id(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@dataclass(frozen=True)
class Memory:
    level: MemoryLevel
    percent: float | None = None
    available_gb: float | None = None
    message: str = ""

    @classmethod
    def parse(cls, raw: Any) -> Memory | None:
        data = _dict(raw)
        if not data:
            return None
        level = _str(data.get("level"), MemoryLevel.NORMAL)
        return cls(
            level=MemoryLevel(level) if level in LEVELS else MemoryLevel.NORMAL,
            percent=_num(data.get("percent")),
            available_gb=_num(data.get("available_gb")),
            message=_str(data.get("message")),
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
    def parse(cls, raw: Any) -> ApplyProgress:
        data = _dict(raw)
        return cls(state=_str(data.get("state"), "idle"), version=_opt_str(data.get("version")))


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

    @classmethod
    def parse(cls, raw: Any) -> Status:
        data = _dict(raw)
        queue = _dict(data.get("queue"))
        job_raw = _dict(data.get("current_job"))
        job = None
        if job_raw:
            job_id = job_raw.get("id")
            job = Job(
                id=job_id if isinstance(job_id, int) and not isinstance(job_id, bool) else None,
                file=_str(job_raw.get("file"), "a file"),
                percent=_num(job_raw.get("percent")),
                eta_seconds=_num(job_raw.get("eta_seconds")),
            )
        update_raw = _dict(data.get("update"))
        update = None
        if update_raw:
            update = Update(
                available=update_raw.get("update_available") is True,
                latest_version=_opt_str(update_raw.get("latest_version")),
                release_url=_opt_str(update_raw.get("release_url")),
                dismissed=update_raw.get("dismissed") is True,
                can_apply=update_raw.get("can_apply") is True,
            )
        paused = data.get("paused") is True
        state = _str(data.get("state"), "idle")
        if state not in ("idle", "transcribing", "paused"):
            state = "transcribing" if job else "idle"
        if paused:
            state = "paused" if not job else state
        folders = {k: v for k, v in _dict(data.get("folders")).items() if isinstance(v, str)}
        last = data.get("events_last_seq")
        return cls(
            version=_str(data.get("version")),
            instance=_opt_str(data.get("instance")),
            state=state,
            paused=paused or state == "paused",
            waiting_reason=_opt_str(data.get("waiting_reason")),
            queued=_int(queue.get("queued")),
            failed=_int(queue.get("failed")),
            done=_int(queue.get("done")),
            job=job,
            folders=folders,
            memory=Memory.parse(data.get("memory")),
            update=update,
            events_last_seq=_int(last) if _num(last) is not None else None,
        )


@dataclass(frozen=True)
class Event:
    seq: int
    type: str
    data: dict[str, Any]

    @classmethod
    def parse(cls, raw: Any) -> Event | None:
        data = _dict(raw)
        seq = data.get("seq")
        if not isinstance(seq, int) or isinstance(seq, bool):
            return None
        return cls(seq=seq, type=_str(data.get("type")), data=_dict(data.get("data")))


@dataclass(frozen=True)
class EventBatch:
    events: tuple[Event, ...]
    last_seq: int | None
    gap: bool
    instance: str | None

    @classmethod
    def parse(cls, raw: Any) -> EventBatch:
        data = _dict(raw)
        items = data.get("events")
        parsed = [Event.parse(e) for e in items] if isinstance(items, list) else []
        last = data.get("last_seq")
        return cls(
            events=tuple(e for e in parsed if e is not None),
            last_seq=_int(last) if _num(last) is not None else None,
            gap=data.get("gap") is True,
            instance=_opt_str(data.get("instance")),
        )
