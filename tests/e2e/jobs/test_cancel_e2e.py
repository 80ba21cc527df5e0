"""Cancelling a file through a real daemon subprocess: queued, running, and by the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Any

import av
import numpy as np

from tests.conftest import DaemonProc
from tests.support.waiting import wait_for


def cli(d: DaemonProc, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "voxtrald", *argv], capture_output=True,
                          text=True, timeout=60, env=d.env)


def events(d: DaemonProc, kind: str) -> list[dict[str, Any]]:
    return [e["data"] for e in d.api("GET", "/api/events?after=0")[1]["events"]
            if e["type"] == kind]


def job_of(d: DaemonProc, name: str) -> dict[str, Any] | None:
    return next((j for j in d.jobs() if j["file"] == name), None)


def variant(source: Path, folder: Path, n: int) -> Path:
    """A WAV file with its last sample byte changed: the same words, audio not seen yet."""
    data = bytearray(source.read_bytes())
    data[-1] = n % 256
    out = folder / f"variant-{n}-{source.name}"
    out.write_bytes(bytes(data))
    return out


def long_story(story: Path, out: Path, times: int = 6) -> Path:
    """The story told `times` over: a few minutes of speech, a job that runs for a while."""
    with av.open(str(story)) as container:
        samples = np.concatenate([f.to_ndarray().reshape(-1) for f in container.decode(audio=0)])
    pcm = (np.clip(samples, -1, 1) * 32767).astype(np.int16)
    with wave.open(str(out), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(np.tile(pcm, times).tobytes())
    return out


def test_a_queued_file_cancelled_stays_untouched_until_it_changes(
    daemon_factory: Callable[..., DaemonProc], speech_wav: Path, tmp_path: Path
) -> None:
    d = daemon_factory()
    d.api("POST", "/api/pause")
    other = variant(speech_wav, tmp_path, 1)
    source = d.drop(speech_wav, "skip me.wav")
    job = d.wait_for(lambda: job_of(d, "skip me.wav"), 30, "the file to be queued")
    before = (source.read_bytes(), source.stat().st_mtime_ns)

    out = cli(d, "cancel", str(job["id"]))
    assert out.returncode == 0, out.stderr
    assert f"Job #{job['id']} (skip me.wav) is cancelled" in out.stdout
    assert f"`voxtrald retry {job['id']}` transcribes it anyway" in out.stdout
    cancelled = d.job(job["id"])
    assert cancelled["state"] == "cancelled" and cancelled["finished_at"]
    assert events(d, "job_cancelled") == [{"id": job["id"], "file": "skip me.wav",
                                           "was": "queued"}]
    queue = d.status()["queue"]
    assert queue["cancelled"] == 1 and queue["queued"] == 0
    assert (source.read_bytes(), source.stat().st_mtime_ns) == before

    # Restarted, the daemon scans its inbox first: the unchanged file is not taken again.
    d.api("POST", "/api/resume")
    d.restart()
    d.drop(other, "next.wav")
    d.wait_for(lambda: (job_of(d, "next.wav") or {}).get("state") == "done", 60,
               "a file dropped after the restart to be done")
    assert [j["state"] for j in d.jobs() if j["file"] == "skip me.wav"] == ["cancelled"]
    assert source.exists() and list(d.transcripts.glob("skip me*")) == []

    out = cli(d, "cancel", str(job_of(d, "next.wav")["id"]))  # type: ignore[index]
    assert out.returncode == 1 and "is done; only queued or running" in out.stderr
    out = cli(d, "cancel", "9999", "--json")
    assert out.returncode == 1 and json.loads(out.stdout)["error"]["code"] == "job_not_found"

    # Changed (touched: a new modification time), it is new work.
    os.utime(source, ns=(before[1] + 10**9, before[1] + 10**9))
    d.wait_for(lambda: any(j["file"] == "skip me.wav" and j["state"] == "done"
                           for j in d.jobs()), 60, "the changed file to be transcribed")
    states = sorted(j["state"] for j in d.jobs() if j["file"] == "skip me.wav")
    assert states == ["cancelled", "done"]


def test_a_running_file_cancelled_stops_its_worker_and_the_queue_goes_on(
    daemon_factory: Callable[..., DaemonProc], data_dir: Path, speech_wav: Path,
    tmp_path: Path
) -> None:
    d = daemon_factory({"engine": {"chunk_seconds_low": 20, "chunk_seconds_mid": 20,
                                   "chunk_seconds_high": 20}})
    long_file = long_story(data_dir / "story.flac", tmp_path / "long story.wav")
    source = d.drop(long_file)
    running = d.wait_for(lambda: (d.status()["current_job"] or {}).get("percent"), 120,
                         "the long file to be under way")
    status = d.status()
    job_id, worker = status["current_job"]["id"], status["worker"]["pid"]
    assert running and worker

    status_code, answer = d.api("POST", f"/api/jobs/{job_id}/cancel")
    assert status_code == 200 and answer["state"] == "cancelled", answer
    wait_for(lambda: not Path(f"/proc/{worker}").exists(), 15, "the worker to be stopped")
    d.wait_for(lambda: d.status()["current_job"] is None, 10, "the daemon to be idle")
    assert events(d, "job_cancelled") == [{"id": job_id, "file": "long story.wav",
                                           "was": "running"}]
    assert not events(d, "job_done") and not events(d, "job_failed")
    assert source.read_bytes() == long_file.read_bytes()
    assert list(d.transcripts.iterdir()) == []

    # The next file runs as usual; the cancelled one is transcribed anyway when retried.
    d.drop(variant(speech_wav, tmp_path, 2), "fox.wav")
    d.wait_for(lambda: (job_of(d, "fox.wav") or {}).get("state") == "done", 60,
               "the next file to be done")
    retried = d.api("POST", f"/api/jobs/{job_id}/retry")[1]
    assert retried["state"] == "queued" and retried["attempts"] == 0
    d.wait_for(lambda: d.job(job_id)["state"] == "done", 180, "the retried file to be done")
    assert "resuming at" not in d.log()  # its chunks went with the cancel
