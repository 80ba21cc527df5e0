"""Make the audio fixtures in this folder: real speech from espeak-ng, silence from numpy.

Run `python tests/data/make_fixtures.py` (needs espeak-ng); the outputs are
committed so the tests do not depend on espeak-ng's exact voice version.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import av
import numpy as np

HERE = Path(__file__).resolve().parent
RATE = 16000

SPEECH = {
    "fox.wav": "The quick brown fox jumps over the lazy dog.",
    "stella.mp3": "Please call Stella. Ask her to bring these things with her from the store.",
    # Long enough to need several chunks at the smallest chunk length (10 s).
    "story.flac": (
        "Once upon a time there was a small village by the sea. "
        "Every morning the fishermen sailed out before sunrise. "
        "The children walked to school along the harbour wall. "
        "In the evening the whole village gathered in the square. "
        "They told stories about storms and sea monsters. "
        "The old baker sold bread and honey cakes. "
        "One winter a great storm destroyed the harbour. "
        "Everyone worked together to build it again. "
        "By spring the boats were back on the water. "
        "And the village was happier than ever before."
    ),
}


def espeak(text: str, out: Path) -> None:
    subprocess.run(["espeak-ng", "-s", "150", "-w", str(out), text], check=True)


def read_mono16k(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE)
        parts = []
        for frame in container.decode(audio=0):
            for out in resampler.resample(frame):
                parts.append(out.to_ndarray().reshape(-1))
        for out in resampler.resample(None):
            parts.append(out.to_ndarray().reshape(-1))
    return np.concatenate(parts).astype(np.int16)


def write_audio(samples: np.ndarray, out: Path) -> None:
    codec = {".wav": "pcm_s16le", ".flac": "flac", ".mp3": "libmp3lame"}[out.suffix]
    with av.open(str(out), "w") as container:
        stream = container.add_stream(codec, rate=RATE, layout="mono")
        fmt = "s16p" if codec == "libmp3lame" else "s16"
        frame_size = 1152
        for start in range(0, samples.size, frame_size):
            block = samples[start:start + frame_size].reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(block, format=fmt if fmt == "s16" else "s16p",
                                               layout="mono")
            frame.sample_rate = RATE
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for name, text in SPEECH.items():
            raw = Path(tmp) / "speech.wav"
            espeak(text, raw)
            samples = read_mono16k(raw)
            if name == "story.flac":
                # Pauses between sentences, as in real speech, so chunk cuts can find silence.
                sentences = text.split(". ")
                pieces = []
                for sentence in sentences:
                    espeak(sentence, raw)
                    pieces.append(read_mono16k(raw))
                    pieces.append(np.zeros(int(0.6 * RATE), dtype=np.int16))
                samples = np.concatenate(pieces)
            write_audio(samples, HERE / name)
    silence = np.zeros(RATE * 90, dtype=np.int16)
    write_audio(silence, HERE / "silence.flac")
    (HERE / "not_audio.wav").write_text("This is a text file with a .wav name.\n")
    for path in sorted(HERE.iterdir()):
        print(f"{path.name}: {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
