"""The words a user reads about memory: what is happening and what to do about it.

Pure functions of figures, so the tray, the API and the log all say the same
thing, and the wording is tested without a machine that is actually full.
"""

from __future__ import annotations

from collections.abc import Sequence

from voxtrald.memory.figures import GiB, TopProcess
from voxtrald.memory.levels import CRITICAL, WARNING


def gb(n: float) -> str:
    return f"{n / GiB:.1f} GB"


def _hogs(top: Sequence[TopProcess]) -> str:
    names = [f"{p.name} uses {gb(p.rss)}" for p in top[:2] if p.name]
    return " (" + ", ".join(names) + ")" if names else ""


def level_message(
    level: str,
    percent: float | None,
    available: int | None,
    worker_rss: int | None = None,
    top: Sequence[TopProcess] = (),
    limit: str = "host",
) -> str:
    """One or two sentences for this level, with the suggested actions."""
    where = "in this container" if limit == "cgroup" else ""
    if percent is None or available is None:
        return "Memory usage is unknown: the system figures could not be read."
    figures = f"{percent:.0f} % used{' ' + where if where else ''}, {gb(available)} available"
    if level == WARNING:
        return (
            f"Memory usage is high ({figures}). Transcription may slow down. "
            f"Close applications you are not using{_hogs(top)}."
        )
    if level == CRITICAL:
        holds = f" Transcription itself holds {gb(worker_rss)}." if worker_rss else ""
        return (
            f"Memory usage is very high ({figures}). Consider pausing transcription "
            f"(voxtrald pause) or closing other applications{_hogs(top)}.{holds} "
            "A smaller model uses less memory."
        )
    return f"Memory usage is normal ({figures})."


def back_to_normal_message(percent: float, available: int) -> str:
    return f"Memory usage is back to normal ({percent:.0f} % used, {gb(available)} available)."


def hold_for_critical(percent: float | None, clear_below: float) -> str:
    shown = f" ({percent:.0f} %)" if percent is not None else ""
    return (
        f"Memory usage is very high{shown}; new jobs wait until it falls below "
        f"{clear_below:.0f} % (memory.pause_new_jobs_at_critical is on). "
        "Close other applications to continue."
    )


def hold_for_model(need: int, available: int) -> str:
    return (
        f"Waiting for memory: loading the model needs about {gb(need)} and only "
        f"{gb(available)} is available. Close other applications or use a smaller model."
    )
