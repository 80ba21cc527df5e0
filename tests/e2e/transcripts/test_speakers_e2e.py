"""Speaker labels through the real daemon, the real model and the real speaker encoder.

Conversations are built from ../shared/audio (benchmarks/conversations.py)
with a known speaker at every moment: the labels must reach txt, vtt and
json, a rename must rewrite the set and stick, and a kill -9 in the middle
of a long two-voice file must give the same speakers after the resume.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import wait_for

from benchmarks import conversations as cv
from benchmarks.diarization_metrics import best_mapping, truth_at, word_accuracy

pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(not cv.AUDIO.is_dir(),
                                 reason=f"the shared recordings are not at {cv.AUDIO}")]

TEN_SECOND_CHUNKS = {"engine": {"chunk_seconds_low": 10, "chunk_seconds_mid": 10,
                                "chunk_seconds_high": 10}}


def words_right(doc: dict[str, Any], truth: list[cv.TruthTurn]) -> float:
    turns = [(t.start, t.end, t.speaker) for t in truth]
    words = [(w["start"], w["end"], w["speaker"]) for s in doc["segments"]
             if not s["removed"] for w in s["words"]]
    return word_accuracy(words, turns)


def test_two_voices_are_labelled_in_every_format_and_renamed(
    daemon_factory, tmp_path: Path
) -> None:
    talk = tmp_path / "talk.wav"
    truth = cv.write(talk, ("license_en", "jfk"), 60)
    d = daemon_factory()
    d.drop(talk)
    d.drop(cv.AUDIO / "jfk.flac", "alone.flac")
    jobs = {j["file"]: j for j in d.wait_jobs(2, timeout=600)}
    doc = json.loads((d.transcripts / "talk.json").read_text())
    assert [s["id"] for s in doc["speakers"]] == [1, 2], doc["speakers"]
    assert all("speaker" in s for s in doc["segments"])
    assert words_right(doc, truth) >= 0.9
    txt = (d.transcripts / "talk.txt").read_text()
    assert txt.startswith("Speaker 1: ") and "\n\nSpeaker 2: " in txt
    vtt = (d.transcripts / "talk.vtt").read_text()
    assert "<v Speaker 1>" in vtt and "<v Speaker 2>" in vtt
    assert "Speaker 2: " in (d.transcripts / "talk.srt").read_text()
    # One voice: no labels in the text formats.
    assert "Speaker" not in (d.transcripts / "alone.txt").read_text()
    assert "<v " not in (d.transcripts / "alone.vtt").read_text()

    job_id = jobs["talk.wav"]["id"]
    cli = [sys.executable, "-m", "voxtrald.cli", "speakers", str(job_id), "--socket",
           str(d.socket)]
    listed = subprocess.run(cli, capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0 and "Speaker 2" in listed.stdout, listed
    renamed = subprocess.run([*cli, "--rename", "1=Alice", "2=Bob <b>"], capture_output=True,
                             text=True, timeout=60)
    assert renamed.returncode == 0, renamed.stderr
    txt = (d.transcripts / "talk.txt").read_text()
    assert txt.startswith("Alice: ") and "\n\nBob b: " in txt and "Speaker" not in txt
    assert "<v Alice>" in (d.transcripts / "talk.vtt").read_text()
    doc = json.loads((d.transcripts / "talk.json").read_text())
    assert [s["label"] for s in doc["speakers"]] == ["Alice", "Bob b"]
    # A name for a speaker the job does not have is refused, and nothing changes.
    status, body = d.api("POST", f"/api/jobs/{job_id}/speakers", {"names": {"7": "Eve"}})
    assert status == 409 and body["error"]["code"] == "cannot_rename"
    assert (d.transcripts / "talk.txt").read_text() == txt


def test_a_kill_9_mid_file_keeps_the_speakers_after_the_resume(
    daemon_factory, tmp_path: Path
) -> None:
    talk = tmp_path / "long talk.wav"
    truth = cv.write(talk, ("license_en", "jfk"), 120, seed=3)
    d = daemon_factory(TEN_SECOND_CHUNKS)
    d.drop(talk)
    d.wait_for(lambda: (d.status()["current_job"] or {}).get("percent", 0) >= 45, 600,
               "the job to pass 45 %")
    worker_pid = d.status()["worker"]["pid"]
    d.proc.send_signal(signal.SIGKILL)  # type: ignore[union-attr]
    d.proc.wait()  # type: ignore[union-attr]
    wait_for(lambda: not Path(f"/proc/{worker_pid}").exists(), 10, "the worker to end")
    d.start()
    (job,) = d.wait_jobs(1, timeout=600)
    assert job["state"] == "done"
    doc = json.loads((d.transcripts / "long talk.json").read_text())
    resumed_at = doc["timing"]["resumed_at"]
    assert resumed_at and resumed_at >= 30, doc["timing"]
    assert len(doc["speakers"]) == 2, doc["speakers"]
    # One mapping of labels to voices for the whole file: words before and after the resume
    # must both be right under it, or the speakers were renumbered at the seam.
    assert words_right(doc, truth) >= 0.9
    turns = [(t.start, t.end, t.speaker) for t in truth]
    pairs = [((w["start"] + w["end"]) / 2, w["speaker"]) for s in doc["segments"]
             if not s["removed"] for w in s["words"]]
    mapping = best_mapping([(h, truth_at(turns, t)) for t, h in pairs])
    for side in ([p for p in pairs if p[0] < resumed_at], [p for p in pairs if p[0] >= resumed_at]):
        right = sum(mapping.get(h) == truth_at(turns, t) for t, h in side)
        assert side and right / len(side) >= 0.85, (right, len(side), resumed_at)
