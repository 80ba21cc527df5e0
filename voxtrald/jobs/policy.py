"""The scheduler's rules, as pure functions: retry backoff, progress and ETA, idle unload.

No I/O and no clock of their own (callers pass the time), so each rule is
tested directly with a table instead of through a running daemon.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

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


#: Seconds of audio a second the bar moves on before a speed is measured: slower than
#: the engine runs on a usual machine, so the bar creeps rather than runs ahead.
FIRST_RATE = 1.0
#: The share of a step the bar covers at the measured speed; the rest it only nears.
STEADY_SHARE = 0.5


def shown_position(reached: float, until: float | None, rate: float | None,
                   since: float) -> float:
    """Where the bar stands `since` seconds after the work reached `reached`, working on a
    step that ends at `until`.

    Between the worker's reports the bar moves on at the speed measured so far
    (`rate`, seconds of audio a second; FIRST_RATE before any), for the first
    STEADY_SHARE of the step, then ever more slowly (what is left shrinks as one
    over the time, without a kink): it never gets to `until` before the worker
    does, and a step two or three times slower than those before keeps it
    creeping instead of standing still.
    """
    if until is None or until <= reached or since <= 0:
        return reached
    span = until - reached
    done = since * (rate if rate and rate > 0 else FIRST_RATE) / span
    if done <= STEADY_SHARE:
        return reached + span * done
    tail = 1.0 - STEADY_SHARE
    return reached + span * (1.0 - tail * tail / (tail + done - STEADY_SHARE))


@dataclass
class Bar:
    """One attempt's progress: where the worker said the work stands, where the bar stands.

    Times are the caller's monotonic clock. The speed is measured over the whole
    attempt at each report (a chunk alone says little: one with many doubted
    windows takes twice as long as one without), and the ETA is what is left at
    that speed, so it counts down steadily between reports and is set right at
    each; there is none until the work has moved.
    """

    started: float
    resumed_at: float = 0.0  # audio done by an earlier attempt
    reached: float = 0.0
    until: float | None = None  # where the step under way ends
    reached_at: float = 0.0
    rate: float | None = None  # seconds of audio a second, once measured
    shown: float = 0.0

    def __post_init__(self) -> None:
        self.reached = self.shown = max(self.reached, self.resumed_at)
        self.reached_at = self.reached_at or self.started

    def report(self, position: float, until: float | None, now: float) -> None:
        """The work reached `position`; the step under way ends at `until` (None: unsaid)."""
        self.reached = max(self.reached, position)
        self.until = until if until is not None and until > self.reached else None
        self.reached_at = now
        worked = self.reached - self.resumed_at
        if worked > 0 and now > self.started:
            self.rate = worked / (now - self.started)

    def estimate(self, duration: float | None, now: float) -> Estimate | None:
        """The percent and ETA shown now; the bar never moves back."""
        self.shown = max(self.shown, shown_position(self.reached, self.until, self.rate,
                                                    now - self.reached_at))
        est = estimate(self.shown, duration, now - self.started, self.resumed_at)
        if est is None or duration is None:
            return est
        eta = None if not self.rate else round(max(0.0, duration - self.shown) / self.rate, 1)
        return replace(est, eta_seconds=eta)


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
