"""The real daemon, its memory read from a fake procfs folder the test rewrites.

VOXTRAL_PROCFS points the daemon's system figures at a folder of ours, so the
levels cross 80 % and 90 % on demand; an empty VOXTRAL_CGROUP_ROOT makes sure
a container limit of the test machine does not take over from them.
"""

from __future__ import annotations

import time
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.conftest import DaemonProc
from voxtrald.engine.audio import SAMPLE_RATE, DecodeStats, decode_blocks
from voxtrald.memory.fakeproc import write_meminfo, write_meminfo_percent
from voxtrald.memory.figures import GiB, MiB

HOST = 16 * GiB


@pytest.fixture
def fake_memory(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    procfs, cgroot = tmp_path / "fakeproc", tmp_path / "fakecgroup"
    procfs.mkdir()
    cgroot.mkdir()
    write_meminfo_percent(procfs, HOST, 50)
    return procfs, {"VOXTRAL_PROCFS": str(procfs), "VOXTRAL_CGROUP_ROOT": str(cgroot)}


def long_speech(source: Path, target: Path, times: int) -> Path:
    """Real speech repeated: a job that lasts while the test changes memory around it."""
    blocks = list(decode_blocks(source, DecodeStats()))
    once = np.concatenate(blocks)
    pcm = (np.clip(np.tile(once, times), -1, 1) * 32767).astype("<i2")
    with wave.open(str(target), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(pcm.tobytes())
    return target


def memory_events(d: DaemonProc, after: int = 0) -> list[dict[str, Any]]:
    _, body = d.api("GET", f"/api/events?after={after}&timeout=0")
    return [e for e in body["events"] if e["type"].startswith("memory_")]


def next_memory_event(d: DaemonProc, after: int, timeout: float) -> dict[str, Any] | None:
    """Long-poll /api/events as the tray does, until a memory event or the deadline."""
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        _, body = d.api("GET", f"/api/events?after={after}&timeout={min(left, 5):.1f}",
                        timeout=left + 5)
        for event in body["events"]:
            if event["type"].startswith("memory_"):
                return event
        after = body["last_seq"]
    return None


def memory(d: DaemonProc) -> dict[str, Any]:
    status, body = d.api("GET", "/api/system/memory")
    assert status == 200, body
    return body


def test_daemon_warns_critical_and_normal_while_a_job_completes(
    daemon_factory: Callable[..., DaemonProc], fake_memory: tuple[Path, dict[str, str]],
    data_dir: Path, tmp_path: Path,
) -> None:
    procfs, env = fake_memory
    audio = long_speech(data_dir / "story.flac", tmp_path / "long-story.wav", 8)
    d = daemon_factory(env=env)
    body = memory(d)
    assert body["system"]["status"] == "normal"
    assert body["system"]["total_gb"] == 16.0 and body["limit"] == "host"
    assert body["process"]["rss_mb"] > 0 and body["process"]["vms_mb"] > 0
    assert d.status()["memory"]["level"] == "normal"
    start_seq = d.status()["events_last_seq"]

    d.drop(audio)
    d.wait_for(lambda: d.status()["state"] == "transcribing", 60, "the job to start")
    worker_pid = d.status()["worker"]["pid"]

    write_meminfo_percent(procfs, HOST, 85)
    # How soon it comes (the first sample after the change) is the sampler's unit test's.
    warning = next_memory_event(d, start_seq, 60)
    assert warning is not None, "no memory_warning"
    assert warning["type"] == "memory_warning"
    assert warning["data"]["percent"] == pytest.approx(85.0, abs=0.1)
    assert warning["data"]["worker_rss_mb"] > 10
    assert len(warning["data"]["top_processes"]) == 3
    body = memory(d)
    assert body["system"]["status"] == "warning"
    assert body["worker"]["pid"] == worker_pid and body["worker"]["rss_mb"] > 10
    summary = d.status()["memory"]
    assert summary["level"] == "warning" and summary["percent"] == pytest.approx(85.0, abs=0.1)
    assert summary["available_gb"] == pytest.approx(2.4, abs=0.01)

    write_meminfo_percent(procfs, HOST, 95)
    critical = next_memory_event(d, warning["seq"], 30)
    assert critical is not None and critical["type"] == "memory_critical"
    assert memory(d)["system"]["status"] == "critical"
    # Memory is advice, never a brake: the running job keeps its worker.
    status = d.status()
    assert status["state"] == "transcribing" and status["worker"]["pid"] == worker_pid

    write_meminfo_percent(procfs, HOST, 50)
    normal = next_memory_event(d, critical["seq"], 30)
    assert normal is not None and normal["type"] == "memory_normal"
    assert memory(d)["system"]["status"] == "normal"
    assert d.status()["state"] == "transcribing", "the job should outlast the memory changes"

    (job,) = d.wait_jobs(1, timeout=240)
    assert job["state"] == "done"
    assert (d.transcripts / "long-story.txt").read_text().strip()
    types = [e["type"] for e in memory_events(d, start_seq)]
    assert types == ["memory_warning", "memory_critical", "memory_normal"]


def test_critical_ends_idle_worker_and_pause_at_critical_holds_new_jobs(
    daemon_factory: Callable[..., DaemonProc], fake_memory: tuple[Path, dict[str, str]],
    speech_wav: Path,
) -> None:
    procfs, env = fake_memory
    d = daemon_factory({"memory": {"pause_new_jobs_at_critical": True}}, env=env)
    d.wait_for(lambda: d.status()["worker"]["loaded"], 60, "the worker to load")
    write_meminfo_percent(procfs, HOST, 95)
    d.wait_for(lambda: d.status()["memory"]["level"] == "critical", 10, "critical")
    d.wait_for(lambda: not d.status()["worker"]["loaded"], 10, "the idle worker to be ended")
    assert d.status()["waiting_reason"] is None  # nothing queued, so nothing waits

    d.drop(speech_wav)
    d.wait_for(lambda: [j["state"] for j in d.jobs()] == ["queued"], 10, "the job queued")
    reason = d.status()["waiting_reason"]
    assert reason and "very high" in reason
    time.sleep(2)
    assert [j["state"] for j in d.jobs()] == ["queued"]

    write_meminfo_percent(procfs, HOST, 50)
    (job,) = d.wait_jobs(1, timeout=90)
    assert job["state"] == "done"
    assert d.status()["waiting_reason"] is None


def test_model_that_does_not_fit_waits_for_memory(
    daemon_factory: Callable[..., DaemonProc], fake_memory: tuple[Path, dict[str, str]],
    speech_wav: Path,
) -> None:
    procfs, env = fake_memory
    d = daemon_factory({"engine": {"idle_unload_seconds": 1}}, env=env)
    d.wait_for(lambda: not d.status()["worker"]["loaded"], 30, "the idle worker to unload")
    # 120 MiB free: less than any model's files times the factor plus the margin.
    write_meminfo(procfs, HOST, 120 * MiB)
    d.wait_for(lambda: d.status()["memory"]["available_gb"] < 0.2, 10, "the low reading")
    d.drop(speech_wav)
    d.wait_for(lambda: [j["state"] for j in d.jobs()] == ["queued"], 10, "the job queued")
    reason = d.status()["waiting_reason"]
    assert reason and reason.startswith("Waiting for memory")
    time.sleep(2)
    assert [j["state"] for j in d.jobs()] == ["queued"]
    assert not d.status()["worker"]["loaded"]

    write_meminfo_percent(procfs, HOST, 50)
    (job,) = d.wait_jobs(1, timeout=90)
    assert job["state"] == "done"


def test_worker_ends_as_soon_as_a_job_finishes_at_critical(
    daemon_factory: Callable[..., DaemonProc], fake_memory: tuple[Path, dict[str, str]],
    speech_wav: Path,
) -> None:
    procfs, env = fake_memory
    d = daemon_factory(env=env)
    write_meminfo_percent(procfs, HOST, 95)
    d.wait_for(lambda: d.status()["memory"]["level"] == "critical", 10, "critical")
    # Critical does not hold or stop work by default: the job runs and completes.
    d.drop(speech_wav)
    (job,) = d.wait_jobs(1, timeout=90)
    assert job["state"] == "done"
    # ... and the model it loaded goes after a short grace, not after the idle timeout (300 s).
    d.wait_for(lambda: not d.status()["worker"]["loaded"], 25, "the worker to be ended")
