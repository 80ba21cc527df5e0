"""Hard audio through the real daemon: no spoken word lost without a sign.

Clips are built in a temp folder from the shared real recordings (and one
espeak-ng sentence): two people speaking at once, the same sentences said
again and again, a German reading whose speech goes on after its first
sentence, and laughter the model cannot write. Each goes through the real
daemon with the default model; the sequential path of raw faster-whisper is
the yardstick where one is needed.
"""

from __future__ import annotations

import json
import subprocess
import wave
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import DaemonProc

from benchmarks.metrics import normalise

AUDIO = Path(__file__).resolve().parents[2].parent.parent / "shared" / "audio"
pytestmark = pytest.mark.skipif(not (AUDIO / "jfk.flac").exists(),
                                reason=f"the shared recordings are not at {AUDIO}")
FERRY = "The ferry to the island leaves at half past nine."
JFK = ("And so my fellow Americans, ask not what your country can do for you, ask what you "
       "can do for your country.")
RATE = 16000


def load(path: Path) -> np.ndarray:
    from faster_whisper import decode_audio

    return np.asarray(decode_audio(str(path), sampling_rate=RATE), dtype=np.float32)


def write(path: Path, samples: np.ndarray) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return path


def level(x: np.ndarray, rms: float = 0.05) -> np.ndarray:
    return x / (float(np.sqrt(np.mean(x ** 2))) + 1e-9) * rms


def build(folder: Path) -> dict[str, Path]:
    jfk = load(AUDIO / "jfk.flac")
    other = load(AUDIO / "stereo_diarization.wav")
    mix = np.zeros(jfk.size + RATE, np.float32)
    mix[:jfk.size] += level(jfk)
    mix[RATE // 2:RATE // 2 + other.size] += level(other) * 0.9
    ferry_wav = folder / "ferry-espeak.wav"
    subprocess.run(["espeak-ng", "-w", str(ferry_wav), FERRY], check=True, timeout=60)
    ferry = level(load(ferry_wav))
    pause = np.zeros(RATE // 2, np.float32)
    said_again = np.concatenate([part for _ in range(3) for part in (level(jfk), pause,
                                                                     ferry, pause)])
    german = load(AUDIO / "multilingual.mp3")[-15 * RATE:]
    laugh = load(AUDIO / "laugh2.mp3")
    return {
        "crosstalk.wav": write(folder / "crosstalk.wav", mix),
        "said-again.wav": write(folder / "said-again.wav", said_again),
        "german-tail.wav": write(folder / "german-tail.wav", german),
        "laughter.wav": write(folder / "laughter.wav", np.concatenate([laugh] * 5)),
    }


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory, models_dir: Path) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("hard")
    clips = build(root)
    (root / "d").mkdir()
    d = DaemonProc(root / "d", {"engine": {"model": "default"}}, None)
    d.start()
    try:
        for path in clips.values():
            d.drop(path)
        jobs = d.wait_jobs(len(clips), states=("done", "failed"), timeout=900)
        out: dict[str, Any] = {"clips": clips}
        for job in jobs:
            stem = Path(job["file"]).stem
            out[job["file"]] = {
                "job": job,
                "doc": json.loads((d.transcripts / f"{stem}.json").read_text()),
                "txt": (d.transcripts / f"{stem}.txt").read_text(),
            }
        return out
    finally:
        d.stop(timeout=30)


def raw_sequential(path: Path) -> str:
    """What faster-whisper's own sequential path writes for the file."""
    from faster_whisper import WhisperModel

    from voxtrald.models import resolve_model

    model = WhisperModel(resolve_model("default"), device="cpu", compute_type="int8")
    segments, _info = model.transcribe(str(path), beam_size=5)
    return " ".join(s.text for s in segments)


def missing(expected: str, got: str) -> list[str]:
    """Words of `expected` that `got` lacks (as a multiset)."""
    have: dict[str, int] = {}
    for w in normalise(got):
        have[w] = have.get(w, 0) + 1
    lost = []
    for w in normalise(expected):
        if have.get(w, 0):
            have[w] -= 1
        else:
            lost.append(w)
    return lost


def test_crosstalk_keeps_the_words_the_sequential_path_finds(results: dict[str, Any]) -> None:
    got = results["crosstalk.wav"]
    assert got["job"]["state"] == "done"
    raw = raw_sequential(results["clips"]["crosstalk.wav"])
    lost = missing(raw, got["doc"]["text"])
    assert len(lost) <= 0.15 * len(normalise(raw)), (lost, raw, got["doc"]["text"])
    assert not [s for s in got["doc"]["segments"] if "repetition" in s["flags"]]


def test_speech_said_again_keeps_every_word(results: dict[str, Any]) -> None:
    doc = results["said-again.wav"]["doc"]
    reference = " ".join([JFK, FERRY] * 3)
    lost = missing(reference, doc["text"])
    assert len(lost) <= 0.03 * len(normalise(reference)), (lost, doc["text"])
    assert not [s for s in doc["segments"] if s["removed"]], doc["segments"]


def test_speech_after_a_first_sentence_keeps_its_tail(results: dict[str, Any]) -> None:
    heard = normalise(results["german-tail.wav"]["doc"]["text"])
    assert results["german-tail.wav"]["doc"]["language"] == "de"
    # The last words of the reading, after several sentences.
    assert "übertragen" in heard and "software" in heard, heard


def test_what_the_model_cannot_write_is_a_marked_gap(results: dict[str, Any]) -> None:
    got = results["laughter.wav"]
    doc, job = got["doc"], got["job"]
    assert job["state"] == "done"
    assert doc["gaps"], doc
    for g in doc["gaps"]:
        assert g["end"] - g["start"] >= 1.0 and g["reason"]
    assert "[inaudible]" in got["txt"]
    warning = [w for w in doc["warnings"] if "could not be transcribed" in w]
    assert warning and warning == [w for w in job["warnings"]
                                   if "could not be transcribed" in w]
