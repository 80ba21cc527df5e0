"""The speaker model: pinned file, mel front end, windows, and voices told apart.

No process is started; the real encoder runs in-process with onnxruntime.
The voice check reads ../shared/audio and skips where it is absent.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from voxtrald.engine.speakers.encoder import FRAMES, SpeakerEncoder
from voxtrald.engine.speakers.mel import SAMPLE_RATE, filterbank, mel_frames, volume_gain
from voxtrald.engine.speakers.vectors import unpack
from voxtrald.engine.speakers.windows import chunk_voices, window_starts
from voxtrald.models import speaker
from voxtrald.models.catalog import offline_models
from voxtrald.models.integrity import ModelError

AUDIO = Path(__file__).resolve().parents[2].parent.parent / "shared" / "audio"


def test_the_shipped_model_matches_its_pin_and_a_changed_copy_is_refused(
    tmp_path: Path,
) -> None:
    assert speaker.verified_path() == speaker.PATH
    copy = tmp_path / "encoder.onnx"
    data = bytearray(speaker.PATH.read_bytes())
    data[-1] ^= 1
    copy.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="does not match its pinned SHA-256"):
        speaker.verified_path(copy)
    with pytest.raises(ModelError, match="missing"):
        speaker.verified_path(tmp_path / "gone.onnx")


def test_voxtrald_models_lists_it() -> None:
    entries = {e.name: e for e in offline_models(downloads=False)}
    assert entries[speaker.NAME].verified


def test_the_mel_front_end_puts_a_tone_in_its_band() -> None:
    t = np.arange(SAMPLE_RATE) / SAMPLE_RATE
    mel = mel_frames(np.sin(2 * np.pi * 1000 * t).astype(np.float32))
    assert mel.shape == (101, 40)
    centres = (filterbank() * np.linspace(0, 8000, 201)).sum(1) / filterbank().sum(1)
    assert abs(centres[int(np.argmax(mel[50]))] - 1000) < 120
    assert volume_gain(np.full(100, 0.5, np.float32)) == 1.0  # loud stays
    assert volume_gain(np.full(100, 0.001, np.float32)) > 10  # quiet is raised
    assert volume_gain(np.zeros(100, np.float32)) == 1.0


def test_window_starts_cover_a_span_every_0_8_s() -> None:
    assert window_starts(0, 400, 1000) == [0, 80, 160, 240]
    assert window_starts(0, 360, 1000) == [0, 80, 160, 200]  # the tail gets its own
    assert window_starts(0, 330, 1000) == [0, 80, 160]  # 0.1 s left over: not worth one
    assert window_starts(100, 220, 1000) == [80]  # short: one window centred on it
    assert window_starts(0, 50, 1000) == []  # under 0.8 s: no window
    assert window_starts(0, 120, 130) == []  # the chunk is shorter than a window


@pytest.mark.skipif(not AUDIO.is_dir(), reason=f"the shared recordings are not at {AUDIO}")
def test_the_same_voice_is_closer_than_another() -> None:
    from benchmarks.conversations import voice_speech

    encoder = SpeakerEncoder(threads=1)

    def vectors(name: str) -> np.ndarray:
        speech = voice_speech(name)[: 20 * SAMPLE_RATE]
        return unpack(chunk_voices(encoder, speech, [(0, speech.size)], 0.0))

    en, de = vectors("license_en"), vectors("license_de")
    assert len(en) >= 20 and en.shape[1] == 256
    same = float((en[: len(en) // 2] @ en[len(en) // 2:].T).mean())
    other = float((en @ de.T).mean())
    assert same > 0.7 and other < 0.6, (same, other)
    assert FRAMES == 160


def test_a_file_shorter_than_one_window_gets_no_windows_and_no_labels() -> None:
    from voxtrald.engine.speakers.assign import speaker_windows

    encoder = SpeakerEncoder(threads=1)
    short = np.random.default_rng(0).standard_normal(8000).astype(np.float32) * 0.1
    assert chunk_voices(encoder, short, [(0, 8000)], 0.0) == ()
    assert speaker_windows((), None) == ()


def test_a_failing_speaker_model_costs_the_labels_not_the_transcript() -> None:
    from voxtrald.engine.speakers.worker_side import Speakers

    class Failing:
        def embed(self, mels: np.ndarray) -> np.ndarray:
            raise RuntimeError("onnxruntime fell over")

    speakers = Speakers(1)
    speakers._encoder = Failing()  # type: ignore[assignment]
    audio = np.random.default_rng(0).standard_normal(48000).astype(np.float32) * 0.1
    assert speakers.chunk("auto", audio, [(0, 48000)], 0.0) == ()
    windows, warnings = speakers.finish("auto", [])
    assert windows == () and "speaker model failed" in warnings[0]
    assert speakers.finish("auto", []) == ((), [])  # the next file tries again
    assert speakers.chunk("off", audio, [(0, 48000)], 0.0) == ()
