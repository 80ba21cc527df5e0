"""Per-process figures: the daemon, its worker, and the machine's biggest users.

Per-process figures always come from the real system (psutil), never from the
VOXTRAL_PROCFS hook: a test that fakes host memory still wants true RSS.
"""

from __future__ import annotations

import heapq
import os

import psutil

from voxtrald.memory.figures import BadReading, ProcessMemory, TopProcess


class ProcessReader:
    """Keeps psutil.Process handles between readings, so a sample is one statm read each."""

    def __init__(self, own_pid: int | None = None) -> None:
        self._own = psutil.Process(own_pid or os.getpid())
        self._worker: psutil.Process | None = None

    def own(self) -> ProcessMemory:
        return _memory(self._own)

    def worker(self, pid: int | None) -> ProcessMemory | None:
        """The worker's figures, or None when there is none or it has just exited."""
        if pid is None:
            self._worker = None
            return None
        try:
            if self._worker is None or self._worker.pid != pid:
                self._worker = psutil.Process(pid)
            return _memory(self._worker)
        except (psutil.Error, BadReading):
            self._worker = None
            return None


def _memory(proc: psutil.Process) -> ProcessMemory:
    try:
        info = proc.memory_info()
    except (psutil.Error, OSError) as exc:
        raise BadReading(f"cannot read memory of pid {proc.pid}: {exc}") from exc
    return ProcessMemory(proc.pid, int(info.rss), int(info.vms))


def top_processes(count: int = 3) -> list[TopProcess]:
    """The `count` processes with the largest RSS; a walk over all of them, so read rarely."""
    found: list[TopProcess] = []
    for proc in psutil.process_iter(["name", "memory_info"]):
        try:
            info = proc.info
            mem = info.get("memory_info")
            if mem is None:
                continue
            found.append(TopProcess(info.get("name") or "", proc.pid, int(mem.rss)))
        except (psutil.Error, OSError):
            continue
    return heapq.nlargest(count, found, key=lambda p: p.rss)
