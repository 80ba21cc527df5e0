"""Writers for the VOXTRAL_PROCFS and VOXTRAL_CGROUP_ROOT hooks.

To see how the daemon reacts to a full machine without filling one, point the
hooks at a folder and write the figures here; tests and benchmarks use the
same writers. Each file is written to a temp name and renamed, so a sampler
reading at that moment sees the old figures or the new ones, never half.
"""

from __future__ import annotations

from pathlib import Path

from voxtrald.files import atomic

KiB = 1024


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic.write_atomic(path, text, mode=atomic.USER_FILE_MODE)


def meminfo_text(total: int, available: int, swap_total: int = 0, swap_free: int = 0) -> str:
    """A meminfo in the kernel's layout, from byte counts."""
    free = max(0, available // 2)
    rows = [
        ("MemTotal", total),
        ("MemFree", free),
        ("MemAvailable", available),
        ("Buffers", 0),
        ("Cached", max(0, available - free)),
        ("SwapTotal", swap_total),
        ("SwapFree", swap_free),
    ]
    return "".join(f"{name + ':':<16}{value // KiB:>8} kB\n" for name, value in rows)


def write_meminfo(procfs: Path, total: int, available: int, **swap: int) -> None:
    write_atomic(Path(procfs) / "meminfo", meminfo_text(total, available, **swap))


def write_meminfo_percent(procfs: Path, total: int, percent: float) -> None:
    """Host memory `percent` used out of `total` bytes."""
    write_meminfo(procfs, total, int(total * (100.0 - percent) / 100.0))


def write_pressure(procfs: Path, some10: float, full10: float) -> None:
    text = (
        f"some avg10={some10:.2f} avg60={some10:.2f} avg300=0.00 total=1\n"
        f"full avg10={full10:.2f} avg60={full10:.2f} avg300=0.00 total=1\n"
    )
    write_atomic(Path(procfs) / "pressure" / "memory", text)


def write_cgroup_v2(folder: Path, limit: int | str, current: int, inactive_file: int = 0) -> None:
    """memory.max / memory.current / memory.stat of one v2 cgroup folder."""
    write_atomic(folder / "memory.max", f"{limit}\n")
    write_atomic(folder / "memory.current", f"{current}\n")
    write_atomic(folder / "memory.stat", f"anon {current}\ninactive_file {inactive_file}\n")


def write_cgroup_v1(folder: Path, limit: int, usage: int, inactive_file: int = 0) -> None:
    """memory.limit_in_bytes / usage_in_bytes / stat of one v1 memory cgroup folder."""
    write_atomic(folder / "memory.limit_in_bytes", f"{limit}\n")
    write_atomic(folder / "memory.usage_in_bytes", f"{usage}\n")
    write_atomic(
        folder / "memory.stat",
        f"cache {inactive_file}\ninactive_file {inactive_file}\n"
        f"total_inactive_file {inactive_file}\n",
    )
