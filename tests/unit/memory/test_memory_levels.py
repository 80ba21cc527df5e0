"""Pure memory decisions: levels with hysteresis, sampling pace, chunk length, model fit, trend."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voxtrald.config import MemoryConfig
from voxtrald.memory import model_fits, model_need_bytes
from voxtrald.memory.figures import MiB
from voxtrald.memory.levels import CRITICAL, NORMAL, WARNING, next_level, raw_level
from voxtrald.memory.sampler import interval_for, reminder_due
from voxtrald.memory.trend import Trend, seconds_to, slope


@pytest.mark.parametrize(
    ("percent", "expected"),
    [
        (0.0, NORMAL),
        (79.9, NORMAL),
        (80.0, WARNING),
        (84.9, WARNING),
        (85.0, WARNING),
        (89.9, WARNING),
        (90.0, CRITICAL),
        (100.0, CRITICAL),
    ],
)
def test_thresholds_going_up_from_normal(percent: float, expected: str) -> None:
    assert raw_level(percent, 80, 90) == expected
    assert next_level(NORMAL, percent) == expected


@pytest.mark.parametrize(
    ("previous", "percent", "expected"),
    [
        # warning clears only below 80 - 5
        (WARNING, 79.9, WARNING),
        (WARNING, 75.1, WARNING),
        (WARNING, 75.0, WARNING),
        (WARNING, 74.9, NORMAL),
        (WARNING, 90.0, CRITICAL),
        # critical clears only below 90 - 5 ...
        (CRITICAL, 89.9, CRITICAL),
        (CRITICAL, 85.0, CRITICAL),
        (CRITICAL, 84.9, WARNING),
        # ... and a fall straight through the warning band still honours that band
        (CRITICAL, 77.0, WARNING),
        (CRITICAL, 74.9, NORMAL),
        (CRITICAL, 10.0, NORMAL),
        (NORMAL, 95.0, CRITICAL),
    ],
)
def test_hysteresis_band(previous: str, percent: float, expected: str) -> None:
    assert next_level(previous, percent, 80, 90, 5) == expected


def test_failed_reading_keeps_level() -> None:
    for level in (NORMAL, WARNING, CRITICAL):
        assert next_level(level, None) == level


def test_zero_hysteresis_clears_at_the_threshold() -> None:
    assert next_level(WARNING, 79.99, 80, 90, 0) == NORMAL
    assert next_level(CRITICAL, 89.99, 80, 90, 0) == WARNING


def test_hovering_sequence_changes_level_once() -> None:
    level, changes = NORMAL, []
    for percent in [79.9, 80.1, 79.9, 80.2, 79.0, 80.0, 76.0, 81.0, 79.99, 75.5]:
        new = next_level(level, percent)
        if new != level:
            changes.append(new)
        level = new
    assert changes == [WARNING]


def test_interval_is_fast_near_warning_and_relaxed_far_from_it() -> None:
    cfg = MemoryConfig(interval_seconds=5, warning_percent=80)
    assert interval_for(None, cfg) == 5
    assert interval_for(69.9, cfg) == 5
    assert interval_for(70.0, cfg) == 1.0
    assert interval_for(95.0, cfg) == 1.0
    assert interval_for(95.0, MemoryConfig(interval_seconds=0.2)) == 0.2


def test_reminder_due_only_while_critical_after_the_period() -> None:
    assert not reminder_due(CRITICAL, None, 1000.0, 10)
    assert not reminder_due(CRITICAL, 0.0, 599.9, 10)
    assert reminder_due(CRITICAL, 0.0, 600.0, 10)
    assert not reminder_due(WARNING, 0.0, 6000.0, 10)


def test_model_fit_uses_factor_and_margin() -> None:
    need = model_need_bytes(100 * MiB, 2.5, 200)
    assert need == 450 * MiB
    assert model_fits(450 * MiB, 100 * MiB, 2.5, 200)
    assert not model_fits(450 * MiB - 1, 100 * MiB, 2.5, 200)
    # Unknown figures never hold a job.
    assert model_fits(None, 100 * MiB, 2.5, 200)
    assert model_fits(1, None, 2.5, 200)


def test_slope_and_time_to_critical() -> None:
    assert slope([(0, 0)]) is None
    assert slope([(1, 5), (1, 7)]) is None
    assert slope([(0, 0), (1, 2), (2, 4)]) == pytest.approx(2.0)
    assert seconds_to(100, 40, 2.0) == pytest.approx(30.0)
    assert seconds_to(100, 40, -2.0) is None
    assert seconds_to(100, 40, 0.0) is None
    assert seconds_to(100, 120, 2.0) is None


def test_trend_window_keeps_last_minute() -> None:
    trend = Trend(window=60)
    for t in range(0, 121, 5):
        trend.add(float(t), 1000 * MiB + t * MiB if t >= 60 else 0)
    out = trend.report(used=1120 * MiB, critical_used=1180 * MiB)
    assert out["rate_mb_per_s"] == pytest.approx(1.0)
    assert out["seconds_to_critical"] == pytest.approx(60.0)
    assert out["window_seconds"] == 60.0


def test_trend_needs_a_span() -> None:
    trend = Trend()
    trend.add(0.0, 10)
    trend.add(1.0, 20)
    assert trend.rate() is None


_RANK = {NORMAL: 0, WARNING: 1, CRITICAL: 2}


@given(
    previous=st.sampled_from([NORMAL, WARNING, CRITICAL]),
    percent=st.floats(min_value=0, max_value=100),
    warning=st.floats(min_value=1, max_value=80),
    gap=st.floats(min_value=1, max_value=19),
    hysteresis=st.floats(min_value=0, max_value=10),
)
def test_level_is_between_raw_and_previous_and_held_only_in_the_band(
    previous: str, percent: float, warning: float, gap: float, hysteresis: float
) -> None:
    critical = warning + gap
    raw = raw_level(percent, warning, critical)
    level = next_level(previous, percent, warning, critical, hysteresis)
    assert _RANK[raw] <= _RANK[level] <= max(_RANK[raw], _RANK[previous])
    if level != raw:  # held up by hysteresis: only within the band below its threshold
        threshold = critical if level == CRITICAL else warning
        assert threshold - hysteresis <= percent < threshold


@given(st.lists(st.floats(min_value=77.0, max_value=83.0), min_size=1, max_size=50))
def test_any_hovering_within_the_band_changes_level_at_most_once(values: list[float]) -> None:
    level, changes = NORMAL, 0
    for percent in values:
        new = next_level(level, percent)
        changes += new != level
        level = new
    assert changes <= 1
