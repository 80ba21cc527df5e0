"""A stand-in for the transcription worker that replies from a script.

Used only where a real model would make a rule slow or impossible to test:
crashes at a chosen moment, late replies of an earlier job, a worker that
never answers. Everything around it (store, outputs, folders) is real.
"""

from __future__ import annotations

import queue
from collections.abc import Callable, Sequence

from voxtrald.transcripts.segments import Segment, Word
from voxtrald.worker import protocol as wp
from voxtrald.worker.process import WorkerError

Script = Callable[[wp.Transcribe], Sequence[wp.Reply | None]]
CRASH = "the transcription worker was killed by SIGKILL (likely out of memory)"


def segment(start: float, end: float, text: str) -> Segment:
    words = tuple(Word(w, start, end, 0.9) for w in text.split())
    return Segment(start, end, text, words, -0.2, 0.01, 1.2)


def chunked(job_id: int, texts: Sequence[str], first: int = 0, seconds: float = 60.0,
            crash_after: int | None = None, language: str = "fr",
            sha256: str | None = None) -> list[wp.Reply | None]:
    """Replies for a file of len(texts) chunks of `seconds` each, from chunk `first` on."""
    replies: list[wp.Reply | None] = [wp.Started(job_id, seconds * len(texts))]
    for index in range(first, len(texts)):
        if crash_after is not None and index == crash_after:
            return [*replies, None]
        start = index * seconds
        replies.append(wp.Progress(job_id, start + seconds / 2))
        replies.append(wp.ChunkDone(job_id, index, start + seconds,
                                    (segment(start + 1, start + 5, texts[index]),),
                                    language, 0.97))
    replies.append(wp.Done(job_id, seconds * len(texts), len(texts) - first, language, 0.97,
                           sha256=sha256))
    return replies


class FakeWorker:
    def __init__(self, script: Script) -> None:
        self.script = script
        self.running = False
        self.starts = 0
        self.stops = 0
        self.submitted: list[wp.Transcribe] = []
        self.last_used = 0.0
        self.fail_start: str | None = None
        self._replies: queue.Queue[wp.Reply | None] = queue.Queue()

    @property
    def pid(self) -> int | None:
        return 4242 if self.running else None

    def alive(self) -> bool:
        return self.running

    def start(self, timeout: float = 300.0) -> float:
        if self.fail_start:
            raise WorkerError(self.fail_start)
        self.running = True
        self.starts += 1
        return 0.0

    def submit(self, request: wp.Transcribe) -> None:
        if not self.running:
            raise WorkerError("the transcription worker is not running")
        self.submitted.append(request)
        for reply in self.script(request):
            self._replies.put(reply)

    def next_message(self, timeout: float) -> wp.Reply | None:
        reply = self._replies.get(timeout=min(timeout, 0.05))
        if reply is None:
            self.running = False
        return reply

    def exit_reason(self) -> str:
        return CRASH

    def stop(self, grace: float = 2.0) -> None:
        self.running = False
        self.stops += 1
