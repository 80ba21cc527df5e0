"""The plain data one memory reading yields, shared by the readers and the report.

Bytes everywhere inside the package; conversion to GB/MB happens once, in the
report, so no reader rounds twice and the decision logic compares exact values.
"""

from __future__ import annotations

from dataclasses import dataclass

GiB = 1024**3
MiB = 1024**2


class BadReading(Exception):
    """A figure could not be read or made no sense; the caller keeps what it had."""


@dataclass(frozen=True)
class HostMemory:
    total: int
    available: int
    swap_total: int = 0
    swap_free: int = 0


@dataclass(frozen=True)
class CgroupMemory:
    """The tightest memory limit on the way from our cgroup up to the root."""

    version: int
    path: str
    limit: int
    usage: int
    inactive_file: int

    @property
    def used(self) -> int:
        # Inactive page cache is reclaimed before anything is killed, so
        # counting it as used would raise false alarms (the runc/k8s working set).
        return max(0, self.usage - self.inactive_file)

    @property
    def available(self) -> int:
        return max(0, self.limit - self.used)


@dataclass(frozen=True)
class Pressure:
    some_avg10: float
    some_avg60: float
    full_avg10: float | None
    full_avg60: float | None


@dataclass(frozen=True)
class SystemReading:
    """What the levels are computed from: the limit in force and its headroom."""

    total: int
    available: int
    limit: str  # "host" or "cgroup"
    host: HostMemory
    cgroup: CgroupMemory | None = None
    pressure: Pressure | None = None
    # Figures that could not be read this time though the reading stands
    # (an unreadable cgroup usage: we fell back to the host).
    notes: tuple[str, ...] = ()

    @property
    def used(self) -> int:
        return max(0, self.total - self.available)

    @property
    def percent(self) -> float:
        return 100.0 * self.used / self.total if self.total > 0 else 0.0


@dataclass(frozen=True)
class ProcessMemory:
    pid: int
    rss: int
    vms: int


@dataclass(frozen=True)
class TopProcess:
    name: str
    pid: int
    rss: int
