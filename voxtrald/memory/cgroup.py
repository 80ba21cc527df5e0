"""The memory limit of the cgroup we run in (v2 or v1), for readings inside containers.

Inside a container or a systemd slice, MemTotal is the host's RAM while the
kernel kills at the cgroup's limit; a warning at 80 % of the host would come
after the OOM killer. Every level from our cgroup up to the root can carry a
limit and the lowest one binds, so all of them are read. A level whose file
says `max`, or cannot be read, simply has no limit.

`VOXTRAL_CGROUP_ROOT=DIR` replaces /sys/fs/cgroup (a diagnostic and test hook):
a fake root laid out like the real one, with the files directly in DIR (v2) or
in DIR/memory (v1), works since the walk always ends at the root.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

from voxtrald.memory.figures import BadReading, CgroupMemory

DEFAULT_ROOT = Path("/sys/fs/cgroup")
# v1 reports "no limit" as a page-aligned LONG_MAX; anything this large is no limit.
_UNLIMITED = 1 << 60

_V2 = {"limit": "memory.max", "usage": "memory.current", "inactive": "inactive_file"}
_V1 = {
    "limit": "memory.limit_in_bytes",
    "usage": "memory.usage_in_bytes",
    "inactive": "total_inactive_file",
}


def cgroup_root() -> Path:
    env = os.environ.get("VOXTRAL_CGROUP_ROOT")
    return Path(env) if env else DEFAULT_ROOT


def parse_self_cgroup(text: str) -> tuple[str, str]:
    """(v2 path, v1 memory path) from /proc/self/cgroup; "/" where a hierarchy is absent."""
    v2 = v1 = "/"
    for line in text.splitlines():
        parts = line.strip().split(":", 2)
        if len(parts) != 3:
            continue
        hierarchy, controllers, path = parts
        if hierarchy == "0" and controllers == "":
            v2 = path or "/"
        elif "memory" in controllers.split(","):
            v1 = path or "/"
    return v2, v1


def walk_up(base: Path, path: str) -> list[Path]:
    """base/path, then each parent folder, ending with base itself."""
    rel = PurePosixPath(path)
    parts = [p for p in rel.parts if p not in ("/", "", ".", "..")]
    return [base.joinpath(*parts[:n]) for n in range(len(parts), -1, -1)]


def parse_limit(text: str) -> int | None:
    """Bytes, or None for `max`, the v1 'unlimited' value, zero or garbage."""
    value = text.strip()
    if not (value.isascii() and value.isdigit()):
        return None
    limit = int(value)
    return limit if 0 < limit < _UNLIMITED else None


def parse_stat(text: str) -> dict[str, int]:
    """memory.stat's `name value` lines; lines that are not that are skipped."""
    stat: dict[str, int] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isascii() and parts[1].isdigit():
            stat[parts[0]] = int(parts[1])
    return stat


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except (OSError, UnicodeDecodeError):
        return None


def _tightest(dirs: list[Path], limit_file: str) -> tuple[int, Path] | None:
    best: tuple[int, Path] | None = None
    for folder in dirs:
        text = _read(folder / limit_file)
        limit = parse_limit(text) if text is not None else None
        if limit is not None and (best is None or limit < best[0]):
            best = (limit, folder)
    return best


def _usage(version: int, folder: Path, limit: int, root: Path) -> CgroupMemory:
    names = _V2 if version == 2 else _V1
    usage_text = _read(folder / names["usage"])
    if usage_text is None or not (usage_text.strip().isascii() and usage_text.strip().isdigit()):
        raise BadReading(f"cgroup {folder / names['usage']} is unreadable")
    stat = parse_stat(_read(folder / "memory.stat") or "")
    base = root if version == 2 else root / "memory"
    rel = folder.relative_to(base).as_posix()
    return CgroupMemory(
        version=version,
        path="/" if rel == "." else "/" + rel,
        limit=limit,
        usage=int(usage_text.strip()),
        inactive_file=stat.get(names["inactive"], 0),
    )


def read_cgroup(root: Path | None = None, self_cgroup: str | None = None) -> CgroupMemory | None:
    """The cgroup with the lowest memory limit on our path, or None when none is set.

    Raises BadReading when a limit exists but the usage beside it cannot be read.
    """
    root = root or cgroup_root()
    if self_cgroup is None:
        self_cgroup = _read(Path("/proc/self/cgroup")) or ""
    v2_path, v1_path = parse_self_cgroup(self_cgroup)
    found: list[tuple[int, int, Path]] = []
    v2 = _tightest(walk_up(root, v2_path), _V2["limit"])
    if v2:
        found.append((v2[0], 2, v2[1]))
    v1 = _tightest(walk_up(root / "memory", v1_path), _V1["limit"])
    if v1:
        found.append((v1[0], 1, v1[1]))
    if not found:
        return None
    limit, version, folder = min(found)
    return _usage(version, folder, limit, root)
