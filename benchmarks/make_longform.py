"""A long recording for the engine benchmark, built from the real recordings beside the project.

Real speech (every recording in refs.json that has a reference text, in a
seeded random order, repeated until the length is reached) with short pauses
between recordings, one 30 s stretch of pure digital silence and some
stretches of faint white or pink noise: the mix a long meeting or lecture
file has, and where a model invents words. The recordings are read in place;
only the output is written, where the user says.

Writes OUT (FLAC or WAV, 16 kHz mono), OUT-stem.txt (the references of the
speech used, one recording per line) and OUT-stem.manifest.json (where each
stretch lies, so words on silence or noise can be counted). Same seed and
length, same file.

    python benchmarks/make_longform.py /tmp/longform-15.flac [--minutes 15] [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from voxtrald.engine.audio import SAMPLE_RATE, DecodeStats, decode_blocks  # noqa: E402

AUDIO_DIR = ROOT.parent / "shared" / "audio"
SILENCE_SECONDS = 30.0
PAUSE_SECONDS = (0.8, 3.0)
NOISE_SECONDS = (8.0, 20.0)
NOISE_DBFS = (-55.0, -45.0)  # RMS level: audible in headphones, far below speech
NOISE_EVERY_SECONDS = 240.0
NON_SPEECH = ("silence", "noise")


def speech_recordings(refs: dict[str, Any], langs: Sequence[str] = ()) -> list[str]:
    """Recordings with a reference text, optionally only those in `langs` ("en+de" is both)."""
    names = []
    for name, ref in sorted(refs.items()):
        if not (ref.get("text") or "").strip():
            continue
        spoken = set(str(ref.get("lang") or "").split("+"))
        if langs and not spoken & set(langs):
            continue
        names.append(name)
    return names


def plan(durations: dict[str, float], minutes: float, seed: int) -> list[dict[str, Any]]:
    """The stretches of the file, in order, each {kind, start, end[, file | colour, dbfs]}.

    Whole recordings only (a reference cannot be cut mid-sentence), so the
    file runs at least `minutes` long and ends on a pause. The silence sits a
    third of the way in; a noise stretch comes every few minutes, the first
    early enough that a short file has one.
    """
    if not durations:
        raise ValueError("no speech recordings to build from")
    if minutes <= 0:
        raise ValueError("minutes must be positive")
    rng = np.random.default_rng(seed)
    target = minutes * 60.0
    names = sorted(durations)
    stretches: list[dict[str, Any]] = []
    t = 0.0
    silence_done = False
    next_noise = min(NOISE_EVERY_SECONDS / 2, target / 4)

    def add(kind: str, seconds: float, **extra: Any) -> None:
        nonlocal t
        start = round(t, 3)
        t = round(t + seconds, 3)
        stretches.append({"kind": kind, "start": start, "end": t, **extra})

    while t < target:
        for i in rng.permutation(len(names)):
            name = names[int(i)]
            add("speech", durations[name], file=name)
            add("pause", round(float(rng.uniform(*PAUSE_SECONDS)), 3))
            if not silence_done and t >= target / 3:
                add("silence", SILENCE_SECONDS)
                add("pause", round(float(rng.uniform(*PAUSE_SECONDS)), 3))
                silence_done = True
            if t >= next_noise:
                add("noise", round(float(rng.uniform(*NOISE_SECONDS)), 3),
                    colour=str(rng.choice(["white", "pink"])),
                    dbfs=round(float(rng.uniform(*NOISE_DBFS)), 1))
                add("pause", round(float(rng.uniform(*PAUSE_SECONDS)), 3))
                next_noise += NOISE_EVERY_SECONDS
            if t >= target:
                break
    if not silence_done:  # a file shorter than one recording: put it at the end
        add("silence", SILENCE_SECONDS)
    return stretches


def nonspeech_stretches(manifest: dict[str, Any]) -> list[tuple[float, float]]:
    """(start, end) of the silence and noise stretches: any word there is invented."""
    return [(s["start"], s["end"]) for s in manifest["stretches"] if s["kind"] in NON_SPEECH]


def speech_stretches(manifest: dict[str, Any]) -> list[tuple[float, float]]:
    return [(s["start"], s["end"]) for s in manifest["stretches"] if s["kind"] == "speech"]


def reference_text(stretches: Sequence[dict[str, Any]], refs: dict[str, Any]) -> str:
    return "".join(refs[s["file"]]["text"].strip() + "\n"
                   for s in stretches if s["kind"] == "speech")


def noise(seconds: float, colour: str, dbfs: float, rng: np.random.Generator) -> np.ndarray:
    white = rng.standard_normal(int(round(seconds * SAMPLE_RATE)))
    if colour == "pink":
        spectrum = np.fft.rfft(white)
        spectrum[1:] /= np.sqrt(np.arange(1, spectrum.size))
        spectrum[0] = 0
        white = np.fft.irfft(spectrum, n=white.size)
    rms = float(np.sqrt(np.mean(np.square(white)))) or 1.0
    return (white * (10 ** (dbfs / 20) / rms)).astype(np.float32)


def render(stretches: Sequence[dict[str, Any]], speech: dict[str, np.ndarray],
           seed: int) -> Iterator[np.ndarray]:
    """The samples, stretch by stretch; lengths follow the planned times exactly."""
    rng = np.random.default_rng([seed, 1])
    done = 0
    for s in stretches:
        end = int(round(s["end"] * SAMPLE_RATE))
        n = end - done
        if s["kind"] == "speech":
            block = speech[s["file"]][:n]
            block = np.pad(block, (0, n - block.size))
        elif s["kind"] == "noise":
            block = noise(n / SAMPLE_RATE, s["colour"], s["dbfs"], rng)[:n]
        else:
            block = np.zeros(n, dtype=np.float32)
        done = end
        yield block


def decode(path: Path) -> np.ndarray:
    blocks = list(decode_blocks(path, DecodeStats()))
    return np.concatenate(blocks) if blocks else np.zeros(0, dtype=np.float32)


def write_audio(out: Path, blocks: Iterator[np.ndarray]) -> None:
    import av

    codec = {".flac": "flac", ".wav": "pcm_s16le"}.get(out.suffix.lower())
    if codec is None:
        raise ValueError(f"{out}: the output must end in .flac or .wav")
    with av.open(str(out), "w") as container:
        stream = container.add_stream(codec, rate=SAMPLE_RATE, layout="mono")
        assert isinstance(stream, av.audio.stream.AudioStream)
        for block in blocks:
            for i in range(0, block.size, 10 * SAMPLE_RATE):
                part = np.clip(block[i:i + 10 * SAMPLE_RATE], -1.0, 32767 / 32768)
                pcm = (part * 32768).astype(np.int16).reshape(1, -1)
                frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
                frame.sample_rate = SAMPLE_RATE
                for packet in stream.encode(frame):
                    container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


def side_files(out: Path) -> tuple[Path, Path]:
    """The reference text and the manifest that go with a built file."""
    return out.with_suffix(".txt"), out.with_suffix(".manifest.json")


def build(out: Path, minutes: float, seed: int = 1, audio_dir: Path = AUDIO_DIR,
          langs: Sequence[str] = ()) -> dict[str, Any]:
    """Write the file, its reference text and its manifest; returns the manifest."""
    refs = json.loads((audio_dir / "refs.json").read_text(encoding="utf-8"))
    speech = {name: decode(audio_dir / name) for name in speech_recordings(refs, langs)}
    durations = {name: round(s.size / SAMPLE_RATE, 3) for name, s in speech.items()}
    stretches = plan(durations, minutes, seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_audio(out, render(stretches, speech, seed))
    ref_path, manifest_path = side_files(out)
    ref_path.write_text(reference_text(stretches, refs), encoding="utf-8")
    manifest = {
        "audio": out.name, "reference": ref_path.name, "minutes": minutes, "seed": seed,
        "langs": list(langs), "sample_rate": SAMPLE_RATE,
        "duration": stretches[-1]["end"] if stretches else 0.0, "stretches": stretches,
    }
    manifest_path.write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return manifest


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=Path, help="the file to write (.flac or .wav)")
    ap.add_argument("--minutes", type=float, default=15.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--audio-dir", type=Path, default=AUDIO_DIR)
    ap.add_argument("--langs", default="", help="only recordings in these languages, e.g. en,de")
    args = ap.parse_args()
    langs = [x for x in args.langs.split(",") if x]
    manifest = build(args.out, args.minutes, args.seed, args.audio_dir, langs)
    kinds: dict[str, float] = {}
    for s in manifest["stretches"]:
        kinds[s["kind"]] = kinds.get(s["kind"], 0.0) + s["end"] - s["start"]
    print(f"{args.out}: {manifest['duration'] / 60:.1f} min; "
          + ", ".join(f"{k} {v:.0f} s" for k, v in sorted(kinds.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
