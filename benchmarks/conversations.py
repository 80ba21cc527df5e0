"""Test conversations with a known speaker at every moment, built from ../shared/audio.

Each voice is one person's speech from the real recordings (the MIT licence
is read by one voice in English and another in German, so multilingual.mp3
gives two; stereo_diarization.wav gives one per channel). A conversation
takes turns of 3-20 s (seeded) from 2, 3 or 4 voices in rotation, with
pauses of 0.3-0.8 s, and records who speaks when: the ground truth the
speaker benchmark and the end-to-end tests score against. The recordings are
read in place; only the output is written.

    python benchmarks/conversations.py OUT.wav --voices smartphone,license_en [--seconds 120]
"""

from __future__ import annotations

import argparse
import json
import sys
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

AUDIO = ROOT.parent / "shared" / "audio"
RATE = 16000

# voice name → (file, channel or None, start s, end s)
VOICES: dict[str, tuple[str, int | None, float, float]] = {
    "smartphone": ("smartphone.mp3", None, 0.0, 1e9),
    "license_en": ("multilingual.mp3", None, 0.0, 29.5),
    "license_de": ("multilingual.mp3", None, 31.0, 1e9),
    "jfk": ("jfk.flac", None, 0.0, 1e9),
    "words": ("words.wav", None, 0.0, 1e9),
    "stereo_left": ("stereo_diarization.wav", 0, 0.0, 1e9),
    "stereo_right": ("stereo_diarization.wav", 1, 0.0, 1e9),
    # The English reader again, as a second microphone would hear them: telephone band, quieter.
    "license_en_phone": ("multilingual.mp3", None, 0.0, 29.5),
}
PHONE = {"license_en_phone"}

#: Hard cases the benchmark reports on their own: (name, voices, seconds, laughs, truth ids).
HARD: list[tuple[str, tuple[str, ...], float, bool, tuple[int, ...]]] = [
    ("laughs", ("smartphone", "license_en"), 120, True, (0, 1)),
    ("two-mics", ("license_en", "license_en_phone"), 90, False, (0, 0)),
    ("seven", ("smartphone", "license_en", "license_de", "jfk", "words", "stereo_left",
               "stereo_right"), 240, False, (0, 1, 2, 3, 4, 5, 6)),
]

#: The set the benchmark scores: (name, voices, seconds).
SET: list[tuple[str, tuple[str, ...], float]] = [
    ("two-a", ("smartphone", "license_en"), 120),
    ("two-b", ("license_en", "license_de"), 90),
    ("two-c", ("jfk", "smartphone"), 90),
    ("two-d", ("license_de", "smartphone"), 120),
    ("three-a", ("smartphone", "license_en", "license_de"), 150),
    ("three-b", ("jfk", "license_de", "smartphone"), 150),
    ("four-a", ("smartphone", "license_en", "license_de", "jfk"), 180),
    ("four-b", ("license_en", "smartphone", "words", "license_de"), 180),
]


@dataclass(frozen=True)
class TruthTurn:
    start: float
    end: float
    speaker: int  # index into the voices given, 0-based


def _decode(path: Path, channel: int | None) -> np.ndarray:
    import av

    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        layout = "stereo" if channel is not None else "mono"
        resampler = av.AudioResampler(format="s16", layout=layout, rate=RATE)
        parts = []
        for frame in container.decode(stream):
            for out in resampler.resample(frame):
                parts.append(out.to_ndarray().reshape(-1))
        for out in resampler.resample(None):
            parts.append(out.to_ndarray().reshape(-1))
    data = np.concatenate(parts).astype(np.float32) / 32768.0
    return data.reshape(-1, 2)[:, channel].copy() if channel is not None else data


def voice_speech(name: str) -> np.ndarray:
    """One voice's speech alone (Silero's spans, joined), at 16 kHz mono."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    file, channel, start, end = VOICES[name]
    audio = _decode(AUDIO / file, channel)
    audio = audio[int(start * RATE):int(min(end * RATE, audio.size))]
    spans = get_speech_timestamps(audio, VadOptions(min_silence_duration_ms=300,
                                                    speech_pad_ms=60))
    speech = np.concatenate([audio[s["start"]:s["end"]] for s in spans])
    return _phone(speech) if name in PHONE else speech


def _phone(samples: np.ndarray) -> np.ndarray:
    """Telephone band (300-3,400 Hz) at half the level: another microphone, same person."""
    spectrum = np.fft.rfft(samples)
    freqs = np.fft.rfftfreq(samples.size, 1 / RATE)
    spectrum[(freqs < 300) | (freqs > 3400)] = 0
    return (np.fft.irfft(spectrum, samples.size) * 0.5).astype(np.float32)


def laughter() -> np.ndarray:
    """laugh2.mp3: no words, a voice nonetheless."""
    return _decode(AUDIO / "laugh2.mp3", None)


def build(voices: tuple[str, ...], seconds: float, seed: int = 1, laughs: bool = False,
          ids: tuple[int, ...] | None = None) -> tuple[np.ndarray, list[TruthTurn]]:
    """The conversation's samples and who speaks when.

    `laughs` puts 1-3 s of laughter after every other turn (not speech: in no
    turn); `ids` gives the true speaker of each voice (two voices may be one
    person on two microphones).
    """
    rng = np.random.default_rng(seed)
    speech = [voice_speech(v) for v in voices]
    laugh = laughter() if laughs else np.zeros(0, np.float32)
    ids = ids or tuple(range(len(voices)))
    cursor = [0] * len(voices)
    parts: list[np.ndarray] = []
    truth: list[TruthTurn] = []
    now = 0
    who = 0
    while now < seconds * RATE:
        pause = int(rng.uniform(0.3, 0.8) * RATE)
        parts.append(np.zeros(pause, np.float32))
        now += pause
        source = speech[who]
        length = min(int(rng.uniform(3, 20) * RATE), source.size)
        idx = (cursor[who] + np.arange(length)) % source.size
        cursor[who] = int((cursor[who] + length) % source.size)
        parts.append(source[idx])
        truth.append(TruthTurn(now / RATE, (now + length) / RATE, ids[who]))
        now += length
        if laugh.size and len(truth) % 2 == 0:
            start = int(rng.integers(0, max(1, laugh.size - 3 * RATE)))
            piece = laugh[start:start + int(rng.uniform(1, 3) * RATE)]
            parts.append(piece)
            now += piece.size
        who = (who + 1) % len(voices)
    return np.concatenate(parts), truth


def write_wav(path: Path, samples: np.ndarray) -> None:
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(pcm.tobytes())


def write(path: Path, voices: tuple[str, ...], seconds: float, seed: int = 1,
          laughs: bool = False, ids: tuple[int, ...] | None = None) -> list[TruthTurn]:
    """OUT.wav and OUT.truth.json ({voices, turns: [[start, end, speaker]]})."""
    samples, truth = build(voices, seconds, seed, laughs, ids)
    write_wav(path, samples)
    path.with_suffix(".truth.json").write_text(json.dumps(
        {"voices": list(voices),
         "turns": [[round(t.start, 3), round(t.end, 3), t.speaker] for t in truth]}))
    return truth


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--voices", required=True)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    truth = write(args.out, tuple(args.voices.split(",")), args.seconds, args.seed)
    print(f"wrote {args.out}: {len(truth)} turns")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
