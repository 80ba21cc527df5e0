"""The scheduler's pure rules, table by table."""

from __future__ import annotations

import pytest

from voxtrald.jobs.policy import (
    CRITICAL_IDLE_GRACE,
    FIRST_RATE,
    Bar,
    estimate,
    retry_delay,
    shown_position,
    unload_reason,
)
from voxtrald.states import MemoryLevel


@pytest.mark.parametrize(("attempts", "wait"), [(0, 30), (1, 30), (2, 60), (3, 120), (5, 480)])
def test_retry_waits_double(attempts: int, wait: float) -> None:
    assert retry_delay(30, attempts) == wait


@pytest.mark.parametrize(
    ("position", "duration", "elapsed", "before", "percent", "eta"),
    [
        (30, 120, 10, 0, 25.0, 30.0),  # a quarter in 10 s: 30 s to go
        (0, 120, 10, 0, 0.0, None),  # nothing done yet: no guess
        (120, 120, 40, 0, 99.9, 0.0),  # done but not written yet: never 100 %
        (90, 120, 10, 60, 75.0, 10.0),  # resumed at 60 s: speed counts this attempt only
        (500, 120, 10, 0, 99.9, 0.0),  # a position past the end is clamped
    ],
)
def test_progress_and_eta(position: float, duration: float, elapsed: float, before: float,
                          percent: float, eta: float | None) -> None:
    est = estimate(position, duration, elapsed, before)
    assert est is not None and (est.percent, est.eta_seconds) == (percent, eta)


@pytest.mark.parametrize(
    ("reached", "until", "rate", "since", "shown"),
    [
        (60, None, 6.0, 5, 60),  # no step said: the bar waits for news
        (60, 120, 6.0, 0, 60),
        (60, 120, 6.0, 2.5, 75),  # at the measured speed ...
        (60, 120, 6.0, 5, 90),  # ... for half the step ...
        (60, 120, 6.0, 7.5, 100),  # ... then slower: a third of it is left when due
        (60, 120, None, 5, 60 + 5 * FIRST_RATE),  # no speed measured yet: a slow creep
        (60, 50, 6.0, 5, 60),  # a step that ends before the work stands: nothing
    ],
)
def test_the_bar_moves_on_between_reports(reached: float, until: float | None,
                                          rate: float | None, since: float,
                                          shown: float) -> None:
    assert shown_position(reached, until, rate, since) == pytest.approx(shown)


def test_a_slow_step_keeps_the_bar_creeping_and_never_past_its_end() -> None:
    # A 60 s step expected to take 10 s: past 5 s the bar slows, and keeps moving.
    seen = [shown_position(60, 120, 6.0, t) for t in range(0, 61, 5)]
    steps = [b - a for a, b in zip(seen, seen[1:], strict=False)]
    assert all(later < earlier for earlier, later in zip(steps[1:], steps[2:], strict=False))
    assert all(step > 0 for step in steps) and seen[-1] < 120
    # The step took three times as long as expected: the bar still moves 0.1 % of a
    # 15-minute file (0.9 s of audio) within 5 s.
    assert shown_position(60, 120, 6.0, 30) - shown_position(60, 120, 6.0, 25) > 0.9


def test_the_eta_counts_down_between_reports_and_only_once_measured() -> None:
    bar = Bar(started=100.0)
    bar.report(0.0, 60.0, now=100.0)  # the first chunk starts: no speed yet
    est = bar.estimate(600.0, now=105.0)
    assert est is not None and est.percent == 0.8 and est.eta_seconds is None
    bar.report(60.0, 120.0, now=110.0)  # 60 s of audio in 10 s: 6 s a second
    first = bar.estimate(600.0, now=110.0)
    later = bar.estimate(600.0, now=114.0)
    assert first is not None and later is not None
    assert (first.percent, first.eta_seconds) == (10.0, 90.0)
    assert (later.percent, later.eta_seconds) == (14.0, 86.0)  # 4 s later, 4 s less
    bar.report(30.0, None, now=115.0)  # a report behind the bar never moves it back
    back = bar.estimate(600.0, now=115.0)
    assert back is not None and back.percent == 14.0


def test_a_resumed_attempt_measures_its_own_speed() -> None:
    bar = Bar(started=0.0, resumed_at=300.0)
    est = bar.estimate(600.0, now=1.0)
    assert est is not None and est.percent == 50.0 and est.eta_seconds is None
    bar.report(360.0, 420.0, now=10.0)
    est = bar.estimate(600.0, now=10.0)
    assert est is not None and est.eta_seconds == 40.0  # 240 s left at 6 s a second


@pytest.mark.parametrize("duration", [None, 0.0, -1.0])
def test_no_estimate_without_a_length(duration: float | None) -> None:
    assert estimate(10, duration, 5) is None


@pytest.mark.parametrize(
    ("idle", "level", "became_critical", "expected"),
    [
        (10, MemoryLevel.NORMAL, False, None),
        (300, MemoryLevel.NORMAL, False, "idle"),
        (0, MemoryLevel.CRITICAL, True, "critical"),
        (1, MemoryLevel.CRITICAL, False, None),  # a batch arriving file by file keeps it
        (CRITICAL_IDLE_GRACE, MemoryLevel.CRITICAL, False, "critical"),
        (0, MemoryLevel.WARNING, True, None),
    ],
)
def test_when_an_idle_worker_goes(idle: float, level: MemoryLevel, became_critical: bool,
                                  expected: str | None) -> None:
    unload = unload_reason(idle, 300, level, became_critical)
    if expected is None:
        assert unload is None
    else:
        assert unload is not None and expected in unload.reason
        assert unload.urgent == (expected == "critical")


def test_retry_waits_are_capped_however_many_attempts() -> None:
    from voxtrald.jobs.policy import MAX_RETRY_DELAY

    assert retry_delay(30, 20) == MAX_RETRY_DELAY
    assert retry_delay(30, 10_000) == MAX_RETRY_DELAY
