"""The daemon's side of the worker process: start it, feed it, watch it die.

The supervisor turns everything that can go wrong in the child (a model that
will not load, a segfault, an OOM kill, a hang at shutdown) into plain
messages, so the scheduler only ever sees "a result" or "this attempt failed
because …".
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from typing import IO, Any

log = logging.getLogger("voxtrald.worker")


class WorkerError(Exception):
    """The worker could not start or died; the message says why."""


@dataclass
class WorkerSettings:
    model: str
    device: str
    compute_type: str
    threads: int
    beam_size: int
    language: str
    chunk_seconds_low: float
    chunk_seconds_mid: float
    chunk_seconds_high: float
    chunk_low_below_gb: float
    chunk_mid_below_gb: float
    log_level: str = "INFO"


def _describe_exit(code: int | None) -> str:
    if code is None:
        return "still running"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        hint = " (likely out of memory)" if -code == signal.SIGKILL else ""
        return f"the transcription worker was killed by {name}{hint}"
    return f"the transcription worker exited with code {code}"


class WorkerProcess:
    def __init__(self, settings: WorkerSettings) -> None:
        self.settings = settings
        self.proc: subprocess.Popen[str] | None = None
        self._messages: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.last_used = time.monotonic()
        self._last_exit: int | None = None

    @property
    def pid(self) -> int | None:
        proc = self.proc  # read once: the scheduler may be ending it right now
        return proc.pid if proc is not None and proc.poll() is None else None

    def alive(self) -> bool:
        proc = self.proc
        return proc is not None and proc.poll() is None

    def start(self, timeout: float = 300.0) -> float:
        """Start the child and wait until the model is loaded; returns the load time."""
        if self.alive():
            return 0.0
        self._messages = queue.Queue()
        cmd = [sys.executable, "-m", "voxtrald.engine", json.dumps(self.settings.__dict__)]
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=None, text=True,
            encoding="utf-8", bufsize=1, start_new_session=False,
        )
        threading.Thread(
            target=self._read, args=(self.proc.stdout, self._messages), name="worker-reader",
            daemon=True,
        ).start()
        try:
            msg = self.next_message(timeout)
        except queue.Empty:
            self.stop()
            raise WorkerError(f"the model did not load within {timeout:.0f} s") from None
        if msg is None or msg.get("type") != "ready":
            reason = msg.get("message") if msg else None
            self.stop()
            raise WorkerError(reason or _describe_exit(self.proc.poll() if self.proc else None))
        self.last_used = time.monotonic()
        log.info("transcription worker %s ready (model %s loaded in %.1f s)",
                 self.proc.pid, self.settings.model, msg.get("load_seconds", 0))
        return float(msg.get("load_seconds", 0))

    def _read(self, stream: IO[str], messages: queue.Queue[dict[str, Any] | None]) -> None:
        # Bound to this child's queue: a slow reader of an earlier child must not post
        # its end-of-stream into the next child's messages.
        for line in stream:
            try:
                messages.put(json.loads(line))
            except ValueError:
                log.debug("worker said: %s", line.rstrip())
        messages.put(None)

    def next_message(self, timeout: float) -> dict[str, Any] | None:
        """The next message, None once the child is gone; raises queue.Empty on timeout."""
        msg = self._messages.get(timeout=timeout)
        if msg is None and self.proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=5)
        return msg

    def exit_reason(self) -> str:
        if self.proc is None:
            return _describe_exit(self._last_exit) if self._last_exit is not None \
                else "the transcription worker was stopped"
        return _describe_exit(self.proc.poll())

    def submit(self, job_id: int, path: str) -> None:
        if not self.alive() or self.proc is None or self.proc.stdin is None:
            raise WorkerError("the transcription worker is not running")
        self.last_used = time.monotonic()
        try:
            self.proc.stdin.write(json.dumps({"op": "transcribe", "job_id": job_id,
                                              "path": path}) + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            raise WorkerError(self.exit_reason()) from exc

    def stop(self, grace: float = 2.0) -> None:
        """End the child: ask, then SIGTERM, then SIGKILL; its memory goes back to the OS."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            try:
                if proc.stdin:
                    proc.stdin.write(json.dumps({"op": "quit"}) + "\n")
                    proc.stdin.flush()
            except OSError:
                pass
            try:
                proc.wait(timeout=grace / 2)
            except subprocess.TimeoutExpired:
                proc.terminate()
                try:
                    proc.wait(timeout=grace / 2)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        self._last_exit = proc.returncode
        for stream in (proc.stdin, proc.stdout):
            try:
                if stream:
                    stream.close()
            except OSError:
                pass
        log.info("transcription worker %s ended", proc.pid)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
