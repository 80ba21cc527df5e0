"""Talking to a real transcription worker subprocess in tests, in the worker protocol.

The worker is started exactly as the daemon starts it (`python -m
voxtrald.engine '<settings>'`); tests send it requests and read its replies,
never its internals.
"""

from __future__ import annotations

import queue
import subprocess
import sys
import threading
from pathlib import Path

from voxtrald.models import DEFAULT
from voxtrald.models.assembly import assemble
from voxtrald.worker.protocol import (
    Done,
    EngineSettings,
    Failed,
    Message,
    Quit,
    Ready,
    Reply,
    Transcribe,
    decode,
    encode,
)


def assemble_base(root: Path) -> Path:
    """The default model (multilingual Whisper base), assembled and verified under `root`."""
    return assemble(DEFAULT, root)


class WorkerClient:
    def __init__(self, settings: EngineSettings, load_timeout: float = 240.0) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "voxtrald.engine", settings.to_json()],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, encoding="utf-8",
        )
        self.replies: queue.Queue[Message | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        first = self.replies.get(timeout=load_timeout)
        if not isinstance(first, Ready):
            self.close()
            raise AssertionError(f"worker did not load: {first}")
        self.ready = first

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            msg = decode(line)
            assert msg is not None, f"worker wrote a line that is not a message: {line!r}"
            self.replies.put(msg)
        self.replies.put(None)

    def run(self, req: Transcribe, timeout: float = 300.0) -> list[Reply]:
        """Every reply to `req`, its Done or Failed last."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(encode(req))
        self.proc.stdin.flush()
        out: list[Reply] = []
        while True:
            msg = self.replies.get(timeout=timeout)
            assert msg is not None, "the worker ended mid-job"
            assert not isinstance(msg, Transcribe | Quit)
            out.append(msg)
            if isinstance(msg, Done | Failed):
                return out

    def close(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            try:
                self.proc.stdin.write(encode(Quit()))
                self.proc.stdin.flush()
                self.proc.wait(timeout=20)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
