"""One fresh system-wide reading: host figures, the cgroup limit, pressure.

Linux figures come from meminfo, parsed here rather than through psutil, so a
test or a diagnosis can point `VOXTRAL_PROCFS=DIR` at a folder holding its own
`meminfo` (and `pressure/memory`); elsewhere psutil supplies the host figures.
"""

from __future__ import annotations

import os
from pathlib import Path

import psutil

from voxtrald import _platform
from voxtrald.memory import cgroup as cgroup_mod
from voxtrald.memory.figures import BadReading, CgroupMemory, HostMemory, Pressure, SystemReading
from voxtrald.memory.meminfo import parse_meminfo, parse_pressure


def procfs_dir() -> Path | None:
    """Where meminfo lives: VOXTRAL_PROCFS, else the OS's procfs (Linux), else None (psutil)."""
    env = os.environ.get("VOXTRAL_PROCFS")
    if env:
        return Path(env)
    return _platform.procfs_root()


def _read_text(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError as exc:
        raise BadReading(f"cannot read {path}: {exc.strerror or exc}") from exc


def read_host(procfs: Path | None) -> HostMemory:
    if procfs is not None:
        return parse_meminfo(_read_text(procfs / "meminfo"))
    try:
        vm, sw = psutil.virtual_memory(), psutil.swap_memory()
    except (OSError, psutil.Error, RuntimeError) as exc:
        raise BadReading(f"psutil could not read memory: {exc}") from exc
    if vm.total <= 0:
        raise BadReading("psutil says total memory is 0")
    return HostMemory(int(vm.total), int(min(vm.available, vm.total)), int(sw.total), int(sw.free))


def read_pressure(procfs: Path | None) -> Pressure | None:
    if procfs is None:
        return None
    try:
        return parse_pressure((procfs / "pressure" / "memory").read_text(errors="replace"))
    except OSError:
        return None


def combine(
    host: HostMemory,
    cgroup: CgroupMemory | None,
    pressure: Pressure | None = None,
    notes: tuple[str, ...] = (),
) -> SystemReading:
    """Pick the limit in force: the one whose headroom runs out first.

    A cgroup limit below physical RAM is what the OOM killer enforces; but a
    generous cgroup on a crowded host still swaps when the host runs dry, so
    whichever has less available memory is the one worth measuring against.
    """
    if cgroup is not None and cgroup.limit < host.total and cgroup.available <= host.available:
        return SystemReading(
            cgroup.limit, cgroup.available, "cgroup", host, cgroup, pressure, notes
        )
    return SystemReading(host.total, host.available, "host", host, cgroup, pressure, notes)


def read_system(procfs: Path | None = None, cgroup_root: Path | None = None) -> SystemReading:
    """A fresh reading; raises BadReading when the host figures are unusable."""
    procfs = procfs if procfs is not None else procfs_dir()
    host = read_host(procfs)
    notes: tuple[str, ...] = ()
    try:
        group = cgroup_mod.read_cgroup(cgroup_root)
    except BadReading as exc:
        group, notes = None, (str(exc),)
    return combine(host, group, read_pressure(procfs), notes)


def available_bytes() -> int | None:
    """Memory that can be had now without swapping, within any cgroup limit; None if unknown.

    Cheap enough (a few small file reads) to call before every chunk.
    """
    try:
        return read_system().available
    except (BadReading, OSError, ValueError):
        return None
