# ruff: noqa: F811 - pytest fixtures imported from tests.support.memory_procfs are parameters here
"""The MemoryMonitor with real files (a fake procfs folder), a real EventLog and real threads."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import pytest

from tests.support.memory_procfs import HOST, MEMORY_EVENTS, memory_events, procfs, wait_event  # noqa: F401 - fixtures
from tests.support.waiting import Waits, wait_for
from voxtrald.config import MemoryConfig
from voxtrald.events import EventLog
from voxtrald.memory import MemoryMonitor
from voxtrald.memory.fakeproc import (
    write_cgroup_v2,
    write_meminfo_percent,
)
from voxtrald.memory.figures import GiB, MiB


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_default_interval_warns_within_the_interval(procfs: Path) -> None:
    """At 50 % the sampler pauses 5 s between samples; a jump to 85 % is warned of at the
    first sample after it, so never more than one pause of 5 s later; then it samples
    every second."""
    log = EventLog()
    monitor = MemoryMonitor(MemoryConfig(), log, lambda: None)
    monitor._stop = waits = Waits(stepped=True)  # each pause ends when the test says
    monitor.start()
    try:
        wait_for(lambda: waits.asked == [5.0], 10, "the first pause")
        assert monitor.current_interval() == 5.0 and memory_events(log) == []
        write_meminfo_percent(procfs, HOST, 85)
        waits.step()  # the one 5 s pause ends: the next sample sees 85 %
        event = wait_event(log, 0, 30)
        assert event is not None and event["type"] == "memory_warning"
        wait_for(lambda: len(waits.asked) == 2, 10, "the next pause")
        assert waits.asked == [5.0, 1.0]
    finally:
        monitor.stop()


def test_hovering_at_threshold_gives_one_event(procfs: Path) -> None:
    log = EventLog()
    monitor = MemoryMonitor(MemoryConfig(), log, lambda: None)
    for percent in (79.9, 80.1, 79.9, 80.2, 78.0, 80.0, 76.0, 81.0, 79.99, 75.5):
        write_meminfo_percent(procfs, HOST, percent)
        monitor.sample_once()
    assert [e["type"] for e in memory_events(log)] == ["memory_warning"]
    assert monitor.level == "warning"


def test_reminder_every_period_while_critical(procfs: Path) -> None:
    log, clock = EventLog(), FakeClock()
    monitor = MemoryMonitor(MemoryConfig(reminder_minutes=10), log, lambda: None, clock=clock)
    write_meminfo_percent(procfs, HOST, 95)
    seen = []
    for step in range(0, 41):  # 40 minutes, one sample a minute
        clock.now = 1000.0 + step * 60
        monitor.sample_once()
    seen = memory_events(log)
    assert [e["type"] for e in seen] == ["memory_critical"] * 5
    assert [e["data"]["reminder"] for e in seen] == [False, True, True, True, True]
    write_meminfo_percent(procfs, HOST, 40)
    clock.now += 1
    monitor.sample_once()
    write_meminfo_percent(procfs, HOST, 95)
    clock.now += 1
    monitor.sample_once()
    types = [(e["type"], e["data"]["reminder"]) for e in memory_events(log)][5:]
    assert types == [("memory_normal", False), ("memory_critical", False)]


def test_bad_meminfo_keeps_reading_logs_once_and_sampler_runs(
    procfs: Path, caplog: pytest.LogCaptureFixture
) -> None:
    log = EventLog()
    monitor = MemoryMonitor(MemoryConfig(interval_seconds=0.1), log, lambda: None)
    monitor._stop = waits = Waits(stepped=True)  # one more sample at each step()
    write_meminfo_percent(procfs, HOST, 85)
    caplog.set_level(logging.INFO, logger="voxtrald.memory")

    def samples(n: int) -> None:
        for _ in range(n):
            taken = len(waits.asked)
            waits.step()
            wait_for(lambda t=taken: len(waits.asked) > t, 10, "the next sample", interval=0.01)

    monitor.start()
    try:
        wait_for(lambda: waits.asked, 10, "the first sample")
        assert wait_event(log, 0, 30) is not None
        before = monitor.snapshot()["system"]
        for bad in ("MemTotal: 0 kB\nMemAvailable: 0 kB\n", "", "\x00garbage\n"):
            (procfs / "meminfo").write_text(bad)
            samples(10)
            snap = monitor.snapshot()
            assert snap["system"]["percent"] == before["percent"]
            assert monitor.level == "warning"
            assert snap["problems"] and "meminfo" in snap["problems"][0]
        (procfs / "meminfo").unlink()
        samples(10)
        write_meminfo_percent(procfs, HOST, 95)
        samples(1)
        event = wait_event(log, 1, 30)
        assert event is not None and event["type"] == "memory_critical"
    finally:
        monitor.stop()
    failures = [r for r in caplog.records if "memory reading failed" in r.getMessage()]
    # One line per distinct problem (four bad files), not one per sample (41 samples).
    assert 1 <= len(failures) <= 4
    assert any("readings are back" in r.getMessage() for r in caplog.records)


def test_unexpected_reader_error_does_not_stop_sampler(
    procfs: Path, caplog: pytest.LogCaptureFixture
) -> None:
    calls = []

    def broken() -> None:
        calls.append(1)
        raise RuntimeError("psutil exploded")

    monitor = MemoryMonitor(MemoryConfig(interval_seconds=0.1), EventLog(), lambda: None,
                            reader=broken)  # type: ignore[arg-type]
    caplog.set_level(logging.WARNING, logger="voxtrald.memory")
    monitor.start()
    time.sleep(0.8)
    alive = monitor._thread is not None and monitor._thread.is_alive()
    monitor.stop()
    assert alive and len(calls) >= 3
    assert sum("psutil exploded" in r.getMessage() for r in caplog.records) == 1


def test_stop_joins_quickly(procfs: Path) -> None:
    monitor = MemoryMonitor(MemoryConfig(interval_seconds=60), EventLog(), lambda: None)
    monitor.start()
    time.sleep(0.2)
    thread = monitor._thread
    monitor.stop()  # joins for a second at most: the 60 s pause must be cut short
    assert thread is not None and not thread.is_alive()


def test_cgroup_limit_drives_levels(procfs: Path, tmp_path: Path) -> None:
    write_meminfo_percent(procfs, HOST, 20)
    write_cgroup_v2(tmp_path / "cgroup", 2 * GiB, current=1900 * MiB, inactive_file=60 * MiB)
    log = EventLog()
    monitor = MemoryMonitor(MemoryConfig(), log, lambda: None)
    monitor.sample_once()
    snap = monitor.snapshot()
    assert snap["limit"] == "cgroup"
    assert snap["system"]["total_gb"] == 2.0
    assert snap["system"]["percent"] == pytest.approx(100 * 1840 / 2048, abs=0.1)
    assert snap["system"]["host"]["total_gb"] == 16.0
    assert snap["system"]["cgroup"]["limit_gb"] == 2.0
    event = memory_events(log)[0]
    assert event["type"] == "memory_warning" and event["data"]["limit"] == "cgroup"
    assert "in this container" in event["data"]["message"]


def test_hold_reason(procfs: Path) -> None:
    write_meminfo_percent(procfs, HOST, 95)  # 0.8 GB available
    monitor = MemoryMonitor(MemoryConfig(), EventLog(), lambda: None)
    monitor.sample_once()
    assert monitor.level == "critical"
    assert monitor.hold_reason(None, worker_loaded=True) is None
    assert monitor.hold_reason(None, worker_loaded=False) is None
    small, big = 100 * MiB, 400 * MiB  # need 450 MiB vs 1200 MiB
    assert monitor.hold_reason(small, worker_loaded=False) is None
    reason = monitor.hold_reason(big, worker_loaded=False)
    assert reason is not None and "1.2 GB" in reason and "0.8 GB" in reason
    assert monitor.hold_reason(big, worker_loaded=True) is None

    paused = MemoryMonitor(MemoryConfig(pause_new_jobs_at_critical=True), EventLog(), lambda: None)
    paused.sample_once()
    reason = paused.hold_reason(None, worker_loaded=True)
    assert reason is not None and "85 %" in reason
    # Memory freed since the last sample: the model check reads afresh.
    write_meminfo_percent(procfs, HOST, 50)
    assert monitor.hold_reason(big, worker_loaded=False) is None


def test_summary_and_trend(procfs: Path) -> None:
    clock = FakeClock()
    monitor = MemoryMonitor(MemoryConfig(), EventLog(), lambda: None, clock=clock)
    summary = monitor.summary()
    assert summary["level"] == "normal" and summary["percent"] is None
    for step, percent in enumerate((60, 62, 64, 66)):
        clock.now = 1000.0 + step * 5
        write_meminfo_percent(procfs, HOST, percent)
        monitor.sample_once()
    summary = monitor.summary()
    assert set(summary) == {"level", "percent", "available_gb", "message", "limit"}
    assert summary["percent"] == pytest.approx(66.0, abs=0.1)
    assert summary["limit"] == "host"
    trend = monitor.snapshot()["trend"]
    # 2 % of 16 GiB every 5 s
    assert trend["rate_mb_per_s"] == pytest.approx(0.02 * 16 * 1024 / 5, rel=0.01)
    # 90 % - 66 % = 24 % of 16 GiB at 2 % per 5 s -> 60 s
    assert trend["seconds_to_critical"] == pytest.approx(60.0, rel=0.01)


def test_listener_error_does_not_stop_events(procfs: Path) -> None:
    log = EventLog()
    monitor = MemoryMonitor(MemoryConfig(), log, lambda: None)
    seen = threading.Event()

    def bad(old: str, new: str) -> None:
        raise ValueError("listener bug")

    monitor.add_listener(bad)
    monitor.add_listener(lambda old, new: seen.set())
    write_meminfo_percent(procfs, HOST, 91)
    monitor.sample_once()
    assert seen.is_set()
    assert memory_events(log)[0]["type"] == "memory_critical"
