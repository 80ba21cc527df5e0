"""Parsers for Linux's /proc/meminfo and /proc/pressure/memory: text in, figures out.

Kept free of file access so the odd inputs a kernel, a container runtime or a
test can produce (missing fields, zero, garbage) are tested as plain strings.
MemAvailable is the kernel's own estimate of what can be had without swapping,
page cache included, which is what earlyoom and systemd-oomd act on too.
"""

from __future__ import annotations

from voxtrald.memory.figures import BadReading, HostMemory, Pressure

_UNITS = {"kb": 1024, "mb": 1024**2, "gb": 1024**3, "b": 1, "": 1}


def parse_fields(text: str) -> dict[str, int]:
    """Every `Name: value [unit]` line that parses, in bytes; the rest is skipped."""
    values: dict[str, int] = {}
    for line in text.splitlines():
        name, sep, rest = line.partition(":")
        if not sep:
            continue
        parts = rest.split()
        if not parts or len(parts) > 2:
            continue
        unit = parts[1].lower() if len(parts) == 2 else ""
        if unit not in _UNITS or not (parts[0].isascii() and parts[0].isdigit()):
            continue
        values[name.strip()] = int(parts[0]) * _UNITS[unit]
    return values


def parse_meminfo(text: str) -> HostMemory:
    """The host figures, or BadReading naming what is wrong."""
    values = parse_fields(text)
    missing = [k for k in ("MemTotal", "MemAvailable") if k not in values]
    if missing:
        raise BadReading("meminfo lacks " + ", ".join(missing))
    total, available = values["MemTotal"], values["MemAvailable"]
    if total <= 0:
        raise BadReading("meminfo says MemTotal is 0")
    if available > total:
        raise BadReading(f"meminfo says MemAvailable ({available}) > MemTotal ({total})")
    swap_total = values.get("SwapTotal", 0)
    swap_free = min(values.get("SwapFree", swap_total), swap_total)
    return HostMemory(total, available, swap_total, swap_free)


def _avg(line: str, key: str) -> float | None:
    for token in line.split():
        name, _, value = token.partition("=")
        if name == key:
            try:
                return float(value)
            except ValueError:
                return None
    return None


def parse_pressure(text: str) -> Pressure | None:
    """PSI averages (percent of time stalled), or None when the text has no `some` line."""
    lines = {ln.split(None, 1)[0]: ln for ln in text.splitlines() if ln.strip()}
    some = lines.get("some")
    if some is None:
        return None
    some10, some60 = _avg(some, "avg10"), _avg(some, "avg60")
    if some10 is None or some60 is None:
        return None
    full = lines.get("full", "")
    return Pressure(some10, some60, _avg(full, "avg10"), _avg(full, "avg60"))
