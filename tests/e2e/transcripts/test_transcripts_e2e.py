"""Real recordings through the real daemon with the real default model (multilingual base).

One daemon for the file: what a user meets when they drop a French talk, an
English-then-German reading, a truncated file, laughter, or a clip with a
vocabulary beside it. Recordings are read from ../shared/audio in place.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest

from benchmarks.metrics import normalise, wer
from tests.conftest import DaemonProc
from tests.support.recordings import AUDIO, needs_recordings, references

REFS = references()
# Every test here reads the real recordings; a plain clone skips them all.
pytestmark = needs_recordings


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory, models_dir: Path
             ) -> dict[str, dict[str, Any]]:
    """Drop every file once, wait for all, return each file's job and JSON transcript."""
    root = tmp_path_factory.mktemp("d")
    d = DaemonProc(root, {"engine": {"model": "default"}}, None)
    d.start()
    try:
        d.inbox.mkdir(parents=True, exist_ok=True)
        (d.inbox / "hotwords.vocab.txt").write_text("ComfyUI\n")
        truncated = root / "jfk-cut.flac"
        truncated.write_bytes((AUDIO / "jfk.flac").read_bytes()[:20_000])
        names = ["punctuations.mp3", "multilingual.mp3", "laugh2.mp3", "hotwords.mp3"]
        for name in names:
            d.drop(AUDIO / name)
        d.drop(truncated)
        jobs = d.wait_jobs(5, states=("done", "failed"), timeout=600)
        out: dict[str, dict[str, Any]] = {}
        for job in jobs:
            stem = Path(job["file"]).stem
            doc_path = d.transcripts / f"{stem}.json"
            out[job["file"]] = {"job": job, "doc": json.loads(doc_path.read_text())
                                if doc_path.exists() else None,
                                "txt": (d.transcripts / f"{stem}.txt").read_text()
                                if (d.transcripts / f"{stem}.txt").exists() else None}
        return out
    finally:
        d.stop(timeout=30)


Finished = dict[str, dict[str, Any]]


def test_a_french_clip_is_heard_as_french(finished: Finished) -> None:
    got = finished["punctuations.mp3"]
    assert got["job"]["state"] == "done" and got["job"]["language"] == "fr"
    assert got["doc"]["language"] == "fr" and got["doc"]["language_probability"] > 0.5
    assert "lavion" in normalise(got["doc"]["text"])  # "l'avion": apostrophes are dropped


def test_english_then_german_comes_out_in_both_languages(finished: Finished) -> None:
    doc = finished["multilingual.mp3"]["doc"]
    error = wer(REFS["multilingual.mp3"]["text"], doc["text"])
    assert error is not None and error <= 0.25, (error, doc["text"])
    heard = normalise(doc["text"])
    assert "permission" in heard and "genehmigung" in heard


def test_every_segment_carries_timed_words_and_quality_figures(finished: Finished) -> None:
    doc = finished["multilingual.mp3"]["doc"]
    assert doc["segments"]
    for seg in doc["segments"]:
        assert seg["words"], seg
        for word in seg["words"]:
            assert seg["start"] - 0.01 <= word["start"] <= word["end"] <= seg["end"] + 0.01
            assert 0.0 <= word["probability"] <= 1.0
        for key in ("avg_logprob", "no_speech_prob", "compression_ratio", "flags"):
            assert key in seg


def test_a_truncated_file_is_done_with_a_warning_saying_how_much_was_decoded(
    finished: Finished,
) -> None:
    got = finished["jfk-cut.flac"]
    assert got["job"]["state"] == "done"
    (warning,) = [w for w in got["job"]["warnings"] if w.startswith("decoded ")]
    assert " of 11." in warning
    assert warning in got["doc"]["warnings"]


def test_laughter_gets_no_invented_words(finished: Finished) -> None:
    got = finished["laugh2.mp3"]
    assert got["job"]["state"] == "done" and got["txt"].strip() == ""


def test_a_vocabulary_beside_the_file_is_heard_and_spelled(finished: Finished) -> None:
    assert "ComfyUI" in finished["hotwords.mp3"]["txt"]


def _same_size_other_audio(source: Path, out: Path) -> Path:
    """Another recording with exactly the same number of bytes: the samples reversed."""
    data = source.read_bytes()
    start = data.index(b"data") + 8  # past the RIFF chunks before the samples
    header, body = data[:start], data[start:]
    frames = [body[i:i + 2] for i in range(0, len(body) - len(body) % 2, 2)]
    out.write_bytes(header + b"".join(reversed(frames)) + body[len(frames) * 2:])
    return out


def test_a_queued_file_rewritten_in_place_is_recorded_as_what_was_transcribed(
    daemon: DaemonProc, data_dir: Path, tmp_path: Path
) -> None:
    d = daemon
    assert d.api("POST", "/api/pause")[0] == 200
    queued = d.drop(data_dir / "fox.wav", "a.wav")
    d.wait_for(lambda: len(d.jobs()) == 1, 30, "the file to be queued")
    st = queued.stat()
    other = _same_size_other_audio(data_dir / "fox.wav", tmp_path / "other.wav")
    queued.write_bytes(other.read_bytes())  # same size, then the old times put back
    os.utime(queued, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert d.api("POST", "/api/resume")[0] == 200
    (job,) = d.wait_jobs(1, timeout=120)
    assert job["sha256"] == hashlib.sha256(other.read_bytes()).hexdigest()
    assert "content differs from what was hashed" in d.log()
    # The original audio dropped later is new work, not a duplicate of the rewritten file.
    d.drop(data_dir / "fox.wav", "b.wav")
    jobs = d.wait_jobs(2, timeout=120)
    assert sorted(j["state"] for j in jobs) == ["done", "done"]
