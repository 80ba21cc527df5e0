"""A command of the user's when a job ends: `[hooks] on_done` and `on_failed`.

Automation (move the transcript to a wiki, mail it, summarise it) needs to
know when a transcript is ready without polling. A hook is a command run
without a shell: the program and its arguments as configured, where `{json}`,
`{txt}`, `{srt}`, `{vtt}`, `{source}`, `{file}` and `{id}` stand for the job's
paths and id, and a JSON summary of the job on standard input.

A hook must never hold up the queue: hooks run one at a time on their own
thread, fed by a bounded queue (a hook that cannot keep up loses its oldest
calls, said in the log); each has a time limit, after which its whole process
group is killed; what it prints is logged up to a limit and the rest read and
dropped, so a hook writing 100 MB fills neither memory nor the log. A hook
that forks and exits is done when it exits: its children may keep the output
pipe open, and are not waited for. Each failure is logged once, and a hook
that cannot start at all (not executable, gone) is said once until it can.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import selectors
import subprocess
import threading
import time
from dataclasses import dataclass
from typing import Any

from voxtrald import _platform
from voxtrald.config import HooksConfig

log = logging.getLogger("voxtrald")
QUEUE_SIZE = 256
# After the hook exits, its output is read this much longer (what it wrote just before).
DRAIN_SECONDS = 1.0
PLACEHOLDERS = ("json", "txt", "srt", "vtt", "source", "file", "id")


@dataclass(frozen=True)
class HookCall:
    event: str  # "on_done" or "on_failed"
    argv: tuple[str, ...]
    summary: dict[str, Any]


@dataclass(frozen=True)
class HookResult:
    returncode: int | None  # None: killed at the time limit
    output: bytes  # the first max_output_bytes of stdout and stderr together
    output_total: int
    timed_out: bool


def expand(template: list[str], values: dict[str, str]) -> tuple[str, ...]:
    """The configured command with {placeholders} replaced; other braces are left as is."""
    out = []
    for arg in template:
        for name in PLACEHOLDERS:
            arg = arg.replace("{" + name + "}", values.get(name, ""))
        out.append(arg)
    return tuple(out)


def run_hook(argv: tuple[str, ...], stdin: bytes, timeout: float,
             max_output: int) -> HookResult:
    """Run one hook to its end or its time limit; OSError when it cannot start."""
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True, close_fds=True)
    assert proc.stdin is not None and proc.stdout is not None
    try:
        # Written without blocking: a hook that never reads its input must not stall us.
        os.set_blocking(proc.stdin.fileno(), False)
        with contextlib.suppress(BlockingIOError, BrokenPipeError):
            os.write(proc.stdin.fileno(), stdin)
        proc.stdin.close()
        kept = bytearray()
        total = 0
        timed_out = False
        deadline = time.monotonic() + timeout
        exited_at: float | None = None
        with selectors.DefaultSelector() as sel:
            sel.register(proc.stdout, selectors.EVENT_READ)
            while True:
                now = time.monotonic()
                if exited_at is None and proc.poll() is not None:
                    exited_at = now
                if exited_at is not None and now - exited_at > DRAIN_SECONDS:
                    break  # children of the hook may hold the pipe: not waited for
                if exited_at is None and now > deadline:
                    timed_out = True
                    _kill_group(proc)
                    exited_at = time.monotonic()
                    continue
                if not sel.select(timeout=0.1):
                    continue
                chunk = os.read(proc.stdout.fileno(), 65536)
                if not chunk:
                    if exited_at is not None:
                        break
                    # EOF while it runs: it closed its output and is ending.
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        proc.wait(0.1)
                    continue
                total += len(chunk)
                if len(kept) < max_output:
                    kept.extend(chunk[: max_output - len(kept)])
        return HookResult(None if timed_out else proc.returncode, bytes(kept), total, timed_out)
    finally:
        proc.stdout.close()
        if proc.poll() is None:
            _kill_group(proc)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        _platform.hard_kill_group(proc.pid)
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        log.warning("hook process %d did not end after SIGKILL", proc.pid)


class Hooks:
    def __init__(self, cfg: HooksConfig) -> None:
        self.cfg = cfg
        self._queue: queue.Queue[HookCall | None] = queue.Queue(QUEUE_SIZE)
        self._thread: threading.Thread | None = None
        self._said: set[str] = set()  # start failures already reported

    def job_ended(self, event: str, summary: dict[str, Any], paths: dict[str, str]) -> None:
        """Queue the hook for this event, if one is configured; never blocks."""
        template = self.cfg.on_done if event == "on_done" else self.cfg.on_failed
        if not template:
            return
        call = HookCall(event, expand(template, paths), summary)
        self._start()
        try:
            self._queue.put_nowait(call)
        except queue.Full:
            log.warning("hook %s for %s not run: %d hooks are already waiting (the hook is "
                        "slower than the jobs)", event, summary.get("file"), QUEUE_SIZE)

    def _start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._loop, name="hooks", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            with contextlib.suppress(queue.Full):
                self._queue.put_nowait(None)

    def _loop(self) -> None:
        while True:
            call = self._queue.get()
            if call is None:
                return
            try:
                self._run(call)
            except Exception:
                log.exception("hook %s failed unexpectedly", call.event)

    def _run(self, call: HookCall) -> None:
        data = json.dumps(call.summary, ensure_ascii=False).encode("utf-8")
        name = f"hook {call.event} ({call.argv[0]})"
        try:
            result = run_hook(call.argv, data, self.cfg.timeout_seconds,
                              self.cfg.max_output_bytes)
        except OSError as exc:
            reason = f"{name} cannot be started: {exc.strerror or exc}"
            if reason not in self._said:
                self._said.add(reason)
                log.error("%s; it is not run until that is fixed (said once)", reason)
            return
        self._said = {s for s in self._said if not s.startswith(name)}
        output = result.output.decode("utf-8", "replace").strip()
        more = result.output_total - len(result.output)
        shown = (f"; its output: {output!r}" if output else "") + (
            f" (and {more} more bytes, not kept)" if more > 0 else "")
        file = call.summary.get("file")
        if result.timed_out:
            log.error("%s for %s was killed at its time limit of %.0f s%s", name, file,
                      self.cfg.timeout_seconds, shown)
        elif result.returncode != 0:
            log.error("%s for %s exited with status %s%s", name, file, result.returncode,
                      shown)
        else:
            log.info("%s for %s done%s", name, file, shown)
