"""The daemon's side of the worker process: start it, feed it, watch it die.

The supervisor turns everything that can go wrong in the child (a model that
will not load, a segfault, an OOM kill, a hang at shutdown) into plain
messages, so the job runner only ever sees "a reply" or "this attempt failed
because ...". Messages are the typed ones of `worker_protocol`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import queue
import subprocess
import sys
import threading
import time
from typing import IO, Any

from voxtrald import _platform
from voxtrald.config import Config
from voxtrald.worker import protocol as wp

log = logging.getLogger("voxtrald.worker.process")
# How long a killed worker may take to go before the daemon stops waiting for it.
KILL_WAIT = 10.0


class WorkerError(Exception):
    """The worker could not start or died; the message says why."""


def worker_settings(cfg: Config) -> dict[str, Any]:
    """What the worker needs to know: the engine section, the memory levels, the log level.

    Built through EngineSettings so a key the worker does not know fails here, at
    start-up, not as a worker that cannot parse its argument.
    """
    # Language, hotwords and prompt are per file (folder rules over the config): each job
    # brings its own, so the worker holds no global value a job's empty one would fall to.
    per_file = {"language": "", "hotwords": "", "initial_prompt": ""}
    return dataclasses.asdict(wp.EngineSettings(
        **{**dataclasses.asdict(cfg.engine), **per_file},
        memory_warning_percent=cfg.memory.warning_percent,
        memory_critical_percent=cfg.memory.critical_percent,
        log_level=logging.getLevelName(logging.getLogger().level),
    ))


def describe_exit(code: int | None) -> str:
    return f"the transcription worker {_platform.describe_exit(code)}"


class WorkerProcess:
    def __init__(self, settings: dict[str, Any]) -> None:
        self.settings = settings
        self.proc: subprocess.Popen[str] | None = None
        self._messages: queue.Queue[wp.Reply | None] = queue.Queue()
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
        cmd = [sys.executable, "-m", "voxtrald.engine", json.dumps(self.settings)]
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=None, text=True,
            encoding="utf-8", bufsize=1,
        )
        assert self.proc.stdout is not None
        threading.Thread(target=self._read, args=(self.proc.stdout, self._messages),
                         name="worker-reader", daemon=True).start()
        try:
            msg = self.next_message(timeout)
        except queue.Empty:
            self.stop()
            raise WorkerError(f"the model did not load within {timeout:.0f} s") from None
        if not isinstance(msg, wp.Ready):
            reason = msg.message if isinstance(msg, wp.LoadFailed) else None
            self.stop()  # waits for the exit, so the reason below is the real one
            raise WorkerError(reason or describe_exit(self._last_exit))
        self.last_used = time.monotonic()
        log.info("transcription worker %s ready (model %s loaded in %.1f s)",
                 self.proc.pid, msg.model, msg.load_seconds)
        return msg.load_seconds

    @staticmethod
    def _read(stream: IO[str], messages: queue.Queue[wp.Reply | None]) -> None:
        # Bound to this child's queue: a slow reader of an earlier child must not post
        # its end-of-stream into the next child's messages.
        for line in stream:
            msg = wp.decode(line)
            if msg is None or isinstance(msg, wp.Transcribe | wp.Quit):
                log.debug("worker said: %s", line.rstrip()[:500])
                continue
            messages.put(msg)
        messages.put(None)

    def next_message(self, timeout: float) -> wp.Reply | None:
        """The next reply, None once the child is gone; raises queue.Empty on timeout."""
        msg = self._messages.get(timeout=timeout)
        if msg is None and self.proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=5)
        return msg

    def exit_reason(self) -> str:
        if self.proc is None:
            return describe_exit(self._last_exit) if self._last_exit is not None \
                else "the transcription worker was stopped"
        return describe_exit(self.proc.poll())

    def _send(self, msg: wp.Request) -> None:
        proc = self.proc
        if proc is None or proc.poll() is not None or proc.stdin is None:
            raise WorkerError("the transcription worker is not running")
        try:
            proc.stdin.write(wp.encode(msg))
            proc.stdin.flush()
        except OSError as exc:
            raise WorkerError(self.exit_reason()) from exc

    def submit(self, request: wp.Transcribe) -> None:
        self.last_used = time.monotonic()
        self._send(request)

    def stop(self, grace: float = 2.0) -> None:
        """End the child: ask, then terminate, then kill; its memory goes back to the OS."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            with contextlib.suppress(OSError):
                if proc.stdin:
                    proc.stdin.write(wp.encode(wp.Quit()))
                    proc.stdin.flush()
            try:
                proc.wait(timeout=grace / 2)
            except subprocess.TimeoutExpired:
                proc.terminate()
                try:
                    proc.wait(timeout=grace / 2)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    try:
                        proc.wait(timeout=KILL_WAIT)
                    except subprocess.TimeoutExpired:
                        # Stuck in the kernel (a dead network mount): it goes when the
                        # kernel lets it; the scheduler must not wait for that.
                        log.error("transcription worker %s does not end even when killed; "
                                  "leaving it", proc.pid)
        self._last_exit = proc.returncode
        for stream in (proc.stdin, proc.stdout):
            with contextlib.suppress(OSError):
                if stream:
                    stream.close()
        log.info("transcription worker %s ended", proc.pid)
