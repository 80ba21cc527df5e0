"""Readings turned into the JSON the API, the events and the tray read.

The one place where bytes become GB and MB, so every client sees the same
rounding; pure functions of the figures, tested without a sampler.
"""

from __future__ import annotations

from collections.abc import Sequence

from voxtrald import bodies
from voxtrald.memory.figures import GiB, MiB, ProcessMemory, SystemReading, TopProcess


def _gb(n: int | float) -> float:
    return round(n / GiB, 2)


def _mb(n: int | float) -> float:
    return round(n / MiB, 1)


def _pct(part: float, whole: float) -> float:
    return round(100.0 * part / whole, 1) if whole > 0 else 0.0


def top_json(top: Sequence[TopProcess]) -> list[bodies.TopProcess]:
    return [bodies.TopProcess(name=p.name, pid=p.pid, rss_mb=_mb(p.rss)) for p in top]


def system_json(reading: SystemReading | None, level: str) -> bodies.SystemMemory:
    if reading is None:
        return bodies.SystemMemory(total_gb=None, available_gb=None, used_gb=None, percent=None,
                                   status=level, limit=None, host=None, cgroup=None)
    host = reading.host
    group = reading.cgroup
    return bodies.SystemMemory(
        total_gb=_gb(reading.total),
        available_gb=_gb(reading.available),
        used_gb=_gb(reading.used),
        percent=round(reading.percent, 1),
        status=level,
        limit=reading.limit,
        host=bodies.HostMemory(
            total_gb=_gb(host.total),
            available_gb=_gb(host.available),
            percent=_pct(host.total - host.available, host.total),
        ),
        cgroup=None if group is None else bodies.CgroupMemory(
            version=group.version,
            path=group.path,
            limit_gb=_gb(group.limit),
            used_gb=_gb(group.used),
            inactive_file_gb=_gb(group.inactive_file),
            percent=_pct(group.used, group.limit),
        ),
    )


def swap_json(reading: SystemReading | None) -> bodies.SwapUse | None:
    if reading is None:
        return None
    total = reading.host.swap_total
    used = max(0, total - reading.host.swap_free)
    return bodies.SwapUse(total_gb=_gb(total), used_gb=_gb(used), percent=_pct(used, total))


def psi_json(reading: SystemReading | None) -> bodies.Pressure | None:
    if reading is None or reading.pressure is None:
        return None
    p = reading.pressure
    return bodies.Pressure(some_avg10=p.some_avg10, some_avg60=p.some_avg60,
                           full_avg10=p.full_avg10, full_avg60=p.full_avg60)


def process_json(
    own: ProcessMemory | None, worker: ProcessMemory | None, total: int | None
) -> bodies.ProcessUse:
    whole = total or 0
    if own is None:
        return bodies.ProcessUse(pid=None, rss_mb=None, vms_mb=None, percent=None,
                                 total_rss_mb=None, total_percent=None)
    both = own.rss + (worker.rss if worker else 0)
    return bodies.ProcessUse(
        pid=own.pid,
        rss_mb=_mb(own.rss),
        vms_mb=_mb(own.vms),
        percent=_pct(own.rss, whole) if whole else None,
        # Daemon plus worker: what the transcription service holds in all.
        total_rss_mb=_mb(both),
        total_percent=_pct(both, whole) if whole else None,
    )


def worker_json(worker: ProcessMemory | None, total: int | None) -> bodies.WorkerUse | None:
    if worker is None:
        return None
    return bodies.WorkerUse(
        pid=worker.pid,
        rss_mb=_mb(worker.rss),
        vms_mb=_mb(worker.vms),
        percent=_pct(worker.rss, total) if total else None,
    )


def event_json(
    level: str,
    previous: str,
    reading: SystemReading,
    worker: ProcessMemory | None,
    message: str,
    reminder: bool,
    top: Sequence[TopProcess],
) -> bodies.MemoryEvent:
    """The data of a memory_warning / memory_critical / memory_normal event."""
    return bodies.MemoryEvent(
        level=level,
        previous=previous,
        percent=round(reading.percent, 1),
        available_gb=_gb(reading.available),
        total_gb=_gb(reading.total),
        limit=reading.limit,
        worker_rss_mb=_mb(worker.rss) if worker else None,
        message=message,
        reminder=reminder,
        top_processes=top_json(top),
    )
