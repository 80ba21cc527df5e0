"""What the daemon and the transcription worker say to each other, one JSON line each.

Every message is a small frozen dataclass with a `kind`; `encode` and `decode`
are the only places that touch the wire format, so the engine and the job
runner cannot drift apart, and a garbled or unknown line decodes to None
instead of a KeyError deep inside the scheduler.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any, ClassVar

from voxtrald.memory.chunks import ChunkSizing
from voxtrald.transcript import Segment

# -- the worker's settings (its one command-line argument) -------------------------------


@dataclass(frozen=True)
class EngineSettings:
    """Everything the worker needs for its whole life; per-job choices are JobOptions.

    `language`, `hotwords` and `initial_prompt` are the defaults a job's
    options override. `batch_size` 0 lets memory choose (see batching.py).
    """

    model: str = "default"
    device: str = "cpu"
    compute_type: str = "int8"
    threads: int = 0
    beam_size: int = 5
    language: str = ""
    hotwords: str = ""
    initial_prompt: str = ""
    batch_size: int = 0
    word_timestamps: bool = True
    chunks: ChunkSizing = field(default_factory=ChunkSizing)
    memory_warning_percent: float = 80.0
    memory_critical_percent: float = 90.0
    log_level: str = "INFO"

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> EngineSettings:
        """Parse the worker's argument; a wrong key or type is a ValueError naming it."""
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("worker settings must be a JSON object")
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise ValueError(f"unknown worker setting(s): {', '.join(unknown)}")
        chunks = data.pop("chunks", None)
        defaults = cls()
        for name, value in data.items():
            want = type(getattr(defaults, name))
            ok = isinstance(value, want) and not (want is not bool and isinstance(value, bool))
            if want is float and isinstance(value, int) and not isinstance(value, bool):
                data[name] = float(value)
                ok = True
            if not ok:
                raise ValueError(f"worker setting {name} must be {want.__name__}")
        if chunks is not None:
            if not isinstance(chunks, dict):
                raise ValueError("worker setting chunks must be an object")
            try:
                data["chunks"] = ChunkSizing(**{k: float(v) for k, v in chunks.items()})
            except (TypeError, ValueError) as exc:
                raise ValueError(f"worker setting chunks: {exc}") from exc
        return cls(**data)


# -- daemon → worker ---------------------------------------------------------------------


@dataclass(frozen=True)
class JobOptions:
    """Per-job choices on top of the worker's settings (a sidecar vocabulary, a language)."""

    language: str | None = None
    hotwords: str | None = None
    initial_prompt: str | None = None


@dataclass(frozen=True)
class Transcribe:
    kind: ClassVar[str] = "transcribe"
    job_id: int
    path: str
    # Resume: skip the audio before `start_at` seconds; chunks are numbered from `first_chunk`.
    start_at: float = 0.0
    first_chunk: int = 0
    options: JobOptions = field(default_factory=JobOptions)
    # Resume: the language an earlier attempt detected, taken as detected (not forced), so
    # the later chunks come out as they would have in one run.
    known_language: str | None = None
    known_language_probability: float | None = None


@dataclass(frozen=True)
class Quit:
    kind: ClassVar[str] = "quit"


# -- worker → daemon ---------------------------------------------------------------------


@dataclass(frozen=True)
class Ready:
    kind: ClassVar[str] = "ready"
    model: str
    load_seconds: float
    multilingual: bool = True


@dataclass(frozen=True)
class LoadFailed:
    kind: ClassVar[str] = "load_failed"
    message: str


@dataclass(frozen=True)
class Started:
    kind: ClassVar[str] = "started"
    job_id: int
    # What the container says; None when it does not say.
    duration: float | None = None


@dataclass(frozen=True)
class Progress:
    kind: ClassVar[str] = "progress"
    job_id: int
    position: float


@dataclass(frozen=True)
class ChunkDone:
    """A chunk is finished: its segments are final and may be checkpointed.

    `end` is where the next chunk starts (seconds into the file): resuming there
    neither repeats nor skips audio.
    """

    kind: ClassVar[str] = "chunk_done"
    job_id: int
    index: int
    end: float
    segments: tuple[Segment, ...] = ()
    language: str | None = None
    language_probability: float | None = None


@dataclass(frozen=True)
class Done:
    kind: ClassVar[str] = "done"
    job_id: int
    duration: float
    chunks: int
    language: str | None = None
    language_probability: float | None = None
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Failed:
    kind: ClassVar[str] = "failed"
    job_id: int
    message: str
    permanent: bool = False


Request = Transcribe | Quit
Reply = Ready | LoadFailed | Started | Progress | ChunkDone | Done | Failed
Message = Request | Reply

_TYPES: dict[str, type[Any]] = {
    cls.kind: cls
    for cls in (Transcribe, Quit, Ready, LoadFailed, Started, Progress, ChunkDone, Done, Failed)
}


def encode(msg: Message) -> str:
    """One line of JSON, newline included."""
    data = asdict(msg)
    if isinstance(msg, ChunkDone):
        data["segments"] = [s.to_dict() for s in msg.segments]
    return json.dumps({"kind": msg.kind, **data}, ensure_ascii=False) + "\n"


def decode(line: str) -> Message | None:
    """The message on a line, or None for anything that is not one (logged by the caller)."""
    try:
        data = json.loads(line)
        cls = _TYPES[data.pop("kind")]
        if cls is ChunkDone:
            data["segments"] = tuple(Segment.from_dict(s) for s in data.get("segments") or ())
        if cls is Transcribe:
            data["options"] = JobOptions(**(data.get("options") or {}))
        if cls is Done:
            data["warnings"] = tuple(str(w) for w in data.get("warnings") or ())
        names = {f.name for f in fields(cls)}
        msg: Message = cls(**{k: v for k, v in data.items() if k in names})
        return msg
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
