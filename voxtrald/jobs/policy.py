"""The scheduler's rules, as pure functions: retry backoff, progress and ETA, idle unload.

No I/O and no clock of their own (callers pass the time), so each rule is
tested directly with a table instead of through a running daemon.
"""

from __future__ import annotations

from dataclasses import dataclass

from voxtrald.states import MemoryLevel

# How long an idle worker may keep its model while memory stays critical.
CRITICAL_IDLE_GRACE = 10.0


# However many attempts a job is allowed, none waits longer than this for its next.
MAX_RETRY_DELAY = 6 * 3600.0


def retry_delay(base_seconds: float, attempts: int) -> float:
    """Wait before the next attempt: base, then doubling (30 s, 60 s, 120 s ...), capped."""
    return min(MAX_RETRY_DELAY, base_seconds * 2 ** min(max(0, attempts - 1), 40))


@dataclass(frozen=True)
class Estimate:
    percent: float
    eta_seconds: float | None


def estimate(position: float, duration: float | None, elapsed: float,
             done_before: float = 0.0) -> Estimate | None:
    """How far a job is and how long it still needs, from the audio position reached.

    `done_before` is audio already transcribed by an earlier attempt (a resumed
    job): it counts toward the percentage but not toward this attempt's speed.
    None when the length of the audio is unknown.
    """
    if not duration or duration <= 0:
        return None
    position = max(0.0, min(position, duration))
    percent = round(max(0.0, min(99.9, 100.0 * position / duration)), 1)
    worked = position - done_before
    if worked <= 0 or elapsed <= 0:
        return Estimate(percent, None)
    eta = elapsed / worked * (duration - position)
    return Estimate(percent, round(eta, 1))


@dataclass(frozen=True)
class Unload:
    reason: str
    urgent: bool  # memory is short, not merely idle time: worth a warning in the log


def unload_reason(idle_for: float, idle_limit: float, level: MemoryLevel | str,
                  became_critical: bool) -> Unload | None:
    """Why an idle worker should end now, or None to keep its model loaded.

    At critical the model goes at once when the level changes, and otherwise
    after a short grace, so a batch of files arriving one by one does not
    reload it for each.
    """
    if level == MemoryLevel.CRITICAL and (became_critical or idle_for >= CRITICAL_IDLE_GRACE):
        return Unload("memory is critical and no job runs: ending the idle worker", True)
    if idle_for >= idle_limit:
        return Unload(f"idle for {idle_limit:.0f} s: ending the worker to give its memory back",
                      False)
    return None
