"""A long job killed part-way resumes from its last finished chunk after a restart."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import wave
from pathlib import Path

import av
import numpy as np
import pytest

from tests.support.waiting import wait_for

TEN_SECOND_CHUNKS = {"engine": {"chunk_seconds_low": 10, "chunk_seconds_mid": 10,
                                "chunk_seconds_high": 10}}


def words(text: str) -> list[str]:
    return "".join(c.lower() if c.isalnum() else " " for c in text).split()


def twice_told(story: Path, out: Path) -> Path:
    """The story read twice with a second of silence between: about 77 s, 8 chunks."""
    with av.open(str(story)) as container:
        samples = np.concatenate([f.to_ndarray().reshape(-1) for f in container.decode(audio=0)])
    pcm = (np.clip(samples, -1, 1) * 32767).astype(np.int16) if samples.dtype.kind == "f" \
        else samples.astype(np.int16)
    gap = np.zeros(16000, dtype=np.int16)
    with wave.open(str(out), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(np.concatenate([pcm, gap, pcm]).tobytes())
    return out


def test_kill_9_at_two_thirds_resumes_and_says_each_sentence_once(
    daemon_factory, data_dir: Path, tmp_path: Path
) -> None:
    long_file = twice_told(data_dir / "story.flac", tmp_path / "long story.wav")
    d = daemon_factory(TEN_SECOND_CHUNKS)
    d.drop(long_file)
    d.wait_for(lambda: (d.status()["current_job"] or {}).get("percent", 0) >= 60, 120,
               "the job to pass 60 %")
    worker_pid = d.status()["worker"]["pid"]
    d.proc.send_signal(signal.SIGKILL)  # type: ignore[union-attr]
    d.proc.wait()  # type: ignore[union-attr]
    wait_for(lambda: not Path(f"/proc/{worker_pid}").exists(), 10, "the worker to end")
    assert list(d.transcripts.glob("long story*")) == []
    d.start()
    (job,) = d.wait_jobs(1, timeout=120)
    assert job["state"] == "done" and job["attempts"] == 1
    assert "resuming at" in d.log()
    doc = json.loads((d.transcripts / "long story.json").read_text())
    assert doc["duration"] == pytest.approx(77.1, abs=1.0)  # the whole file, not the rest
    resumed_at = doc["timing"]["resumed_at"]
    assert resumed_at and resumed_at >= 30, doc["timing"]
    # Fewer chunks ran the second time than the file has.
    assert 1 <= doc["timing"]["chunks"] < 7, doc["timing"]
    text = words(doc["text"])
    for word in ("sunrise", "children", "monsters", "together", "water"):
        assert text.count(word) == 2, f"{word!r} not said exactly twice in {doc['text']!r}"
    starts = [s["start"] for s in doc["segments"]]
    assert starts == sorted(starts) and doc["segments"][-1]["end"] > 70
    # The seam: segments from before the kill end before those after it begin.
    before = [s for s in doc["segments"] if s["end"] <= resumed_at]
    after = [s for s in doc["segments"] if s["start"] >= resumed_at]
    assert before and after and len(before) + len(after) == len(doc["segments"])
    # The source moves on right after the job is recorded done.
    d.wait_for(lambda: os.path.exists(d.processed / "long story.wav"), 30,
               "the source to reach Processed")


def test_a_silent_worker_is_reported_by_health_then_stopped_and_the_job_goes_on(
    daemon_factory, data_dir: Path
) -> None:
    d = daemon_factory({**TEN_SECOND_CHUNKS, "jobs": {"stall_seconds": 6}})
    d.drop(data_dir / "story.flac")
    d.wait_for(lambda: (d.status()["current_job"] or {}).get("percent", 0) > 0, 60, "running")
    worker_pid = d.status()["worker"]["pid"]
    os.kill(worker_pid, signal.SIGSTOP)  # a worker stuck on a stalled network folder
    try:
        health = d.wait_for(lambda: (h := d.api("GET", "/api/health")[1])["ok"] is False and h,
                            10, "health to report the stall")
        assert any("has made no progress" in p for p in health["problems"]), health
        d.wait_for(lambda: "made no progress for 6 s" in d.log(), 15, "the stall limit")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(worker_pid, signal.SIGCONT)
    (job,) = d.wait_jobs(1, timeout=120)
    assert job["attempts"] == 2 and job["state"] == "done"
    assert d.api("GET", "/api/health")[1]["ok"] is True
