"""The scheduler's pure rules, table by table."""

from __future__ import annotations

import pytest

from voxtrald.jobs.policy import CRITICAL_IDLE_GRACE, estimate, retry_delay, unload_reason
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
