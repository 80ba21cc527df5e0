"""The memory level, with hysteresis so a value hovering at a threshold does not flap.

Escalation is immediate (a warning that comes late is worth little); a level
clears only once usage falls below its threshold minus the hysteresis band.
"""

from __future__ import annotations

from voxtrald.states import MemoryLevel

NORMAL = MemoryLevel.NORMAL
WARNING = MemoryLevel.WARNING
CRITICAL = MemoryLevel.CRITICAL
LEVELS = tuple(MemoryLevel)


def _rank(level: str) -> int:
    """Severity of a level; anything unknown counts as normal."""
    return MemoryLevel(level).rank if level in LEVELS else 0


def raw_level(percent: float, warning: float, critical: float) -> MemoryLevel:
    """The level the percentage alone would give, without memory of the past."""
    if percent >= critical:
        return CRITICAL
    if percent >= warning:
        return WARNING
    return NORMAL


def next_level(
    previous: str,
    percent: float | None,
    warning: float = 80.0,
    critical: float = 90.0,
    hysteresis: float = 5.0,
) -> MemoryLevel:
    """The level after a reading of `percent` when the level was `previous`.

    None (a reading that failed) keeps the previous level: a bad file is no
    reason to announce that memory is fine, nor that it is not.
    """
    if percent is None:
        return MemoryLevel(previous) if previous in LEVELS else NORMAL
    level = raw_level(percent, warning, critical)
    if level.rank >= _rank(previous):
        return level
    # Going down: each level held above us stays until usage clears its band.
    if previous == CRITICAL and percent >= critical - hysteresis:
        return CRITICAL
    if _rank(previous) >= WARNING.rank and level == NORMAL and percent >= (
        warning - hysteresis
    ):
        return WARNING
    return level


def is_escalation(old: str, new: str) -> bool:
    return _rank(new) > _rank(old)
