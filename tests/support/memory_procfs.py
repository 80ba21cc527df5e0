"""Test helpers: a fake procfs folder psutil reads, and waiting for memory events.

Shared by the unit tests and the end-to-end tests that grew out of test_memory_sampler.py,
so both build the same rig the same way.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from voxtrald.events import EventLog
from voxtrald.memory.fakeproc import (
    write_meminfo_percent,
)
from voxtrald.memory.figures import GiB

HOST = 16 * GiB


MEMORY_EVENTS = ("memory_warning", "memory_critical", "memory_normal")


@pytest.fixture
def procfs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "proc"
    folder.mkdir()
    (tmp_path / "cgroup").mkdir()  # an empty cgroup root: no limit, whatever the machine has
    monkeypatch.setenv("VOXTRAL_PROCFS", str(folder))
    monkeypatch.setenv("VOXTRAL_CGROUP_ROOT", str(tmp_path / "cgroup"))
    write_meminfo_percent(folder, HOST, 50)
    return folder


def memory_events(log: EventLog, after: int = 0) -> list[dict]:
    return [e for e in log.since(after)["events"] if e["type"] in MEMORY_EVENTS]


def wait_event(log: EventLog, after: int, timeout: float) -> dict | None:
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        got = memory_events(log, after) or [
            e for e in log.since(after, timeout=left)["events"] if e["type"] in MEMORY_EVENTS
        ]
        if got:
            return got[0]
    return None
