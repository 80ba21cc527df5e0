"""Peak resident memory of other processes over one stretch of work.

Both sides of a benchmark are measured the same way, from outside: psutil
samples the summed RSS of the watched processes, and where the kernel keeps
a high-water mark that can be reset (Linux: VmHWM, reset by writing 5 to
/proc/PID/clear_refs) that mark is read too, so a spike between two samples
is not missed and a process that lives across several files still gets a
peak per file.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from pathlib import Path

import psutil

from voxtrald._platform import procfs_root

MiB = 1024 * 1024


def descendants(pid: int) -> list[int]:
    """A process's children, grandchildren and so on (the daemon's worker, for one)."""
    try:
        return [p.pid for p in psutil.Process(pid).children(recursive=True)]
    except psutil.Error:
        return []


def _proc_file(pid: int, name: str) -> Path | None:
    root = procfs_root()
    return root / str(pid) / name if root is not None else None


def reset_high_water(pid: int) -> bool:
    path = _proc_file(pid, "clear_refs")
    if path is None:
        return False
    try:
        path.write_text("5")
        return True
    except OSError:
        return False


def high_water_bytes(pid: int) -> int | None:
    path = _proc_file(pid, "status")
    if path is None:
        return None
    try:
        for line in path.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


class PeakWatcher:
    """Samples the processes `pids()` names until stopped; `peak` is in bytes."""

    def __init__(self, pids: Callable[[], list[int]], interval: float = 0.05) -> None:
        self.pids = pids
        self.interval = interval
        self.peak = 0
        self._seen: set[int] = set()
        self._reset: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="peak-rss", daemon=True)

    def __enter__(self) -> PeakWatcher:
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()
        # The high-water mark only counts for a process whose mark was reset here.
        for pid in self._reset:
            mark = high_water_bytes(pid)
            if mark is not None and len(self._seen) == 1:
                self.peak = max(self.peak, mark)

    def _sample(self) -> None:
        total = 0
        for pid in self.pids():
            if pid not in self._seen:
                self._seen.add(pid)
                if reset_high_water(pid):
                    self._reset.add(pid)
            with contextlib.suppress(psutil.Error):
                total += psutil.Process(pid).memory_info().rss
        self.peak = max(self.peak, total)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    @property
    def peak_mb(self) -> float:
        return self.peak / MiB
