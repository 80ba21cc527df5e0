# ruff: noqa: F811 - pytest fixtures imported from tests.support.memory_procfs are parameters here
"""The MemoryMonitor with real files (a fake procfs folder), a real EventLog and real threads.

The tests that start real processes; those that start none are in
tests/unit/memory/test_memory_sampler.py.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.memory_procfs import HOST, MEMORY_EVENTS, memory_events, procfs, wait_event  # noqa: F401 - fixtures
from voxtrald.api.router import ApiError, Request, Router
from voxtrald.config import MemoryConfig
from voxtrald.events import EventLog
from voxtrald.memory import MemoryMonitor, register_routes
from voxtrald.memory.fakeproc import (
    write_meminfo_percent,
    write_pressure,
)


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    """A real child process standing in for the worker."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield proc
    proc.kill()
    proc.wait()


def test_thread_crosses_warning_critical_normal(
    procfs: Path, sleeper: subprocess.Popen[bytes]
) -> None:
    log = EventLog()
    changes: list[tuple[str, str]] = []
    monitor = MemoryMonitor(MemoryConfig(interval_seconds=1), log, lambda: sleeper.pid)
    monitor.add_listener(lambda old, new: changes.append((old, new)))
    monitor.start()
    try:
        time.sleep(0.3)
        assert monitor.level == "normal"
        assert memory_events(log) == []

        write_meminfo_percent(procfs, HOST, 85)
        warning = wait_event(log, 0, 2.5)
        assert warning is not None, "no memory_warning within interval + 1 s"
        data = warning["data"]
        assert warning["type"] == "memory_warning"
        assert data["level"] == "warning" and data["previous"] == "normal"
        assert data["percent"] == pytest.approx(85.0, abs=0.1)
        assert data["total_gb"] == 16.0 and data["available_gb"] == pytest.approx(2.4, abs=0.01)
        assert data["limit"] == "host" and data["reminder"] is False
        assert data["worker_rss_mb"] > 1
        assert data["message"].startswith("Memory usage is high")
        assert "Transcription may slow down" in data["message"]
        assert len(data["top_processes"]) == 3
        assert {"name", "pid", "rss_mb"} <= set(data["top_processes"][0])
        assert monitor.snapshot()["system"]["status"] == "warning"

        write_meminfo_percent(procfs, HOST, 95)
        critical = wait_event(log, warning["seq"], 2.5)
        assert critical is not None and critical["type"] == "memory_critical"
        assert "pausing transcription" in critical["data"]["message"]
        assert critical["data"]["previous"] == "warning"

        write_meminfo_percent(procfs, HOST, 50)
        normal = wait_event(log, critical["seq"], 2.5)
        assert normal is not None and normal["type"] == "memory_normal"
        assert normal["data"]["top_processes"] == []
        time.sleep(1.2)
    finally:
        monitor.stop()
    assert [e["type"] for e in memory_events(log)] == list(MEMORY_EVENTS)
    assert changes == [("normal", "warning"), ("warning", "critical"), ("critical", "normal")]


def test_worker_gone_between_readings(
    procfs: Path, caplog: pytest.LogCaptureFixture
) -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    monitor = MemoryMonitor(MemoryConfig(), EventLog(), lambda: proc.pid)
    caplog.set_level(logging.INFO, logger="voxtrald.memory")
    monitor.sample_once()
    assert monitor.snapshot()["worker"]["pid"] == proc.pid
    proc.kill()
    proc.wait()
    monitor.sample_once()
    monitor.sample_once()
    snap = monitor.snapshot()
    assert snap["worker"] is None
    assert snap["process"]["rss_mb"] > 1
    assert sum("is gone" in r.getMessage() for r in caplog.records) == 1


def test_route_serves_the_documented_fields(
    procfs: Path, sleeper: subprocess.Popen[bytes]
) -> None:
    write_pressure(procfs, 3.5, 1.25)
    write_meminfo_percent(procfs, HOST, 82)
    router = Router()
    monitor = MemoryMonitor(MemoryConfig(), EventLog(), lambda: sleeper.pid)
    register_routes(router, monitor)
    monitor.sample_once()
    status, body = router.dispatch(Request("GET", "/api/system/memory"))
    assert status == 200
    assert {"total_gb", "available_gb", "used_gb", "percent", "status"} <= set(body["system"])
    assert body["system"]["status"] == "warning"
    assert body["system"]["total_gb"] == 16.0
    assert body["system"]["percent"] == pytest.approx(82.0, abs=0.1)
    assert {"rss_mb", "vms_mb", "percent"} <= set(body["process"])
    assert body["process"]["rss_mb"] > 1
    assert body["worker"]["pid"] == sleeper.pid
    assert body["process"]["total_rss_mb"] >= body["process"]["rss_mb"]
    assert body["swap"] == {"total_gb": 0.0, "used_gb": 0.0, "percent": 0.0}
    assert body["limit"] == "host"
    assert body["psi"]["some_avg10"] == 3.5 and body["psi"]["full_avg10"] == 1.25
    assert set(body["trend"]) == {"rate_mb_per_s", "seconds_to_critical", "window_seconds"}
    assert body["top_processes"] is None

    _, with_top = router.dispatch(Request("GET", "/api/system/memory", query={"top": "1"}))
    assert len(with_top["top_processes"]) == 3

    (procfs / "pressure" / "memory").unlink()
    monitor.sample_once()
    _, body = router.dispatch(Request("GET", "/api/system/memory"))
    assert body["psi"] is None

    with pytest.raises(ApiError) as err:
        router.dispatch(Request("POST", "/api/system/memory"))
    assert err.value.status == 405
