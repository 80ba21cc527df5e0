"""The English translation: a second decode of the same file, in the same worker.

Whisper translates any language it knows into English when asked for the
"translate" task; that is a second pass over the audio, so it costs about as
much again as the transcription (README gives the measured figure). It runs
only once the transcript is complete and only when the file is not already in
English. Its chunks are not checkpoints: a translation cut short is done again
as a whole, the transcription is never redone for it. A translation that fails
costs the job nothing but a warning: the transcript in the original language
is still written.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Protocol

from voxtrald.transcripts.segments import Segment
from voxtrald.worker import protocol as wp
from voxtrald.worker.process import WorkerError


class Stopped(Exception):
    """The daemon is stopping (the job goes back to the queue), or the job was cancelled."""


class _Flag(Protocol):
    """When to give up: the daemon stopping, or the job cancelled."""

    def is_set(self) -> bool: ...


class _Worker(Protocol):
    def submit(self, request: wp.Transcribe) -> None: ...

    def next_message(self, timeout: float) -> wp.Reply | None: ...

    def exit_reason(self) -> str: ...

    def stop(self, grace: float = ...) -> None: ...


def wanted(translate: bool, language: str | None) -> bool:
    """Translate unless it is off or the file is English already (never twice)."""
    return translate and language != "en"


def request_for(original: wp.Transcribe, language: str | None) -> wp.Transcribe:
    """The same file from its start, in the language heard, with the translate task."""
    options = replace(original.options, task="translate", language=language)
    return wp.Transcribe(original.job_id, original.path, options=options)


def translate(worker: _Worker, request: wp.Transcribe, stopping: _Flag,
              stall_seconds: float, news: Callable[[], None]) -> tuple[list[Segment] | None,
                                                                        str | None]:
    """(English segments, None), or (None, why it failed). Raises Stopped when stopping
    (or the job was cancelled)."""
    try:
        worker.submit(request)
    except WorkerError as exc:
        return None, str(exc)
    segments: list[Segment] = []
    last_news = time.monotonic()
    while True:
        if stopping.is_set():
            worker.stop(grace=1.0)
            raise Stopped
        try:
            msg = worker.next_message(timeout=0.25)
        except queue.Empty:
            if time.monotonic() - last_news > stall_seconds:
                worker.stop(grace=1.0)
                return None, f"no progress for {stall_seconds:.0f} s"
            continue
        last_news = time.monotonic()
        news()
        if msg is None:
            return None, worker.exit_reason()
        if getattr(msg, "job_id", None) != request.job_id:
            continue
        if isinstance(msg, wp.ChunkDone):
            segments.extend(msg.segments)
        elif isinstance(msg, wp.Failed):
            return None, msg.message
        elif isinstance(msg, wp.Done):
            return segments, None
