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

from voxtrald.config import EngineConfig
from voxtrald.transcripts.segments import Segment
from voxtrald.transcripts.voices import Voice, voices_from_list

# -- the worker's settings (its one command-line argument) -------------------------------


@dataclass
class EngineSettings(EngineConfig):
    """Everything the worker needs for its whole life; per-job choices are JobOptions.

    The config's [engine] section, declared once there, plus what the worker
    must know of the rest (the memory levels, the log level). `language`,
    `hotwords` and `initial_prompt` are the defaults a job's options override.
    """

    memory_warning_percent: float = 80.0
    memory_critical_percent: float = 90.0
    log_level: str = "INFO"

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str, ignored: list[str] | None = None) -> EngineSettings:
        """Parse the worker's argument; a value of the wrong type is a ValueError naming it.

        Keys it does not know are left out (and listed in `ignored`).
        """
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("worker settings must be a JSON object")
        known = {f.name for f in fields(cls)}
        if ignored is not None:
            ignored.extend(sorted(set(data) - known))
        defaults = cls()
        values: dict[str, Any] = {}
        for name in known & set(data):
            value, want = data[name], type(getattr(defaults, name))
            if want is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            if not isinstance(value, want) or (want is not bool and isinstance(value, bool)):
                raise ValueError(f"worker setting {name} must be {want.__name__}")
            values[name] = value
        return cls(**values)


# -- daemon → worker ---------------------------------------------------------------------


@dataclass(frozen=True)
class JobOptions:
    """Per-job choices on top of the worker's settings (a sidecar vocabulary, a language)."""

    language: str | None = None
    hotwords: str | None = None
    initial_prompt: str | None = None
    # The languages detection may choose from (None: the worker's settings decide).
    languages: tuple[str, ...] | None = None
    # "auto", "off" or a count (engine/speakers/choice.py); None: the worker's setting.
    speakers: str | None = None
    # "translate": Whisper writes English whatever the language heard (a second pass).
    task: str = "transcribe"


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
    # Resume: the voice windows of the chunks already done, clustered with the rest at the end.
    voices: tuple[Voice, ...] = ()


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
    """The work has reached `position` (seconds into the file); the step under way ends at
    `until` (None: not said), so the daemon may move the bar on toward it meanwhile."""

    kind: ClassVar[str] = "progress"
    job_id: int
    position: float
    until: float | None = None


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
    # The chunk's voice windows with their speaker embeddings, checkpointed with it.
    voices: tuple[Voice, ...] = ()


@dataclass(frozen=True)
class Done:
    kind: ClassVar[str] = "done"
    job_id: int
    duration: float
    chunks: int
    language: str | None = None
    language_probability: float | None = None
    warnings: tuple[str, ...] = ()
    # The SHA-256 of the bytes decoded, read through the same descriptor.
    sha256: str | None = None
    # (centre seconds, speaker from 1) of every voice window of the file; () when speakers
    # are off or none were heard.
    speaker_windows: tuple[tuple[float, int], ...] = ()


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
    if isinstance(msg, ChunkDone | Transcribe):
        data["voices"] = [v.to_dict() for v in msg.voices]
    return json.dumps({"kind": msg.kind, **data}, ensure_ascii=False) + "\n"


def decode(line: str) -> Message | None:
    """The message on a line, or None for anything that is not one (logged by the caller)."""
    try:
        data = json.loads(line)
        cls = _TYPES[data.pop("kind")]
        if cls is ChunkDone:
            data["segments"] = tuple(Segment.from_dict(s) for s in data.get("segments") or ())
        if cls is ChunkDone or cls is Transcribe:
            data["voices"] = voices_from_list(data.get("voices"))
        if cls is Transcribe:
            options = dict(data.get("options") or {})
            if options.get("languages") is not None:
                options["languages"] = tuple(str(c) for c in options["languages"])
            data["options"] = JobOptions(**options)
        if cls is Done:
            data["warnings"] = tuple(str(w) for w in data.get("warnings") or ())
            data["speaker_windows"] = _speaker_windows(data.get("speaker_windows"))
        names = {f.name for f in fields(cls)}
        msg: Message = cls(**{k: v for k, v in data.items() if k in names})
        return msg
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def _speaker_windows(items: Any) -> tuple[tuple[float, int], ...]:
    """(centre, speaker) pairs; a malformed pair is left out."""
    out = []
    for item in items if isinstance(items, list) else ():
        if (isinstance(item, list) and len(item) == 2 and isinstance(item[1], int)
                and isinstance(item[0], int | float) and item[1] > 0):
            out.append((float(item[0]), int(item[1])))
    return tuple(out)
