"""The hard set: real recordings made hard the way meetings and interviews are.

Built from the recordings beside the project (../shared/audio, read in
place, never copied) with their reference texts; seeded, so the same seed
writes the same files. Each clip is where the engine once dropped speech:

- crosstalk: the first 21 s of multilingual.mp3 (up to "furnished to do
  so,", cut in the pause there) with jfk.flac and stereo_diarization.wav
  spoken over its first 17 s at the same level. Scored against the
  multilingual.mp3 part's reference only, the voice the model follows
  (the other's words, if written, are insertions; the order of two voices
  at once is not defined). The manifest keeps both references.
- telephone: jfk.flac and stereo_diarization.wav, band-limited to
  300-3400 Hz and driven 12 dB into clipping.
- music: the English half of multilingual.mp3 over music-like tones at 8 dB SNR.
- babble: jfk.flac and stereo_diarization.wav over four other talkers
  (French and German from the shared recordings) at 6 dB SNR.
- alternation: jfk.flac and one espeak-ng sentence, alternated 8 times with
  short pauses; reference = the texts alternated. Every word is spoken,
  so none may go as a "repetition". Left out, with a note, without espeak-ng.
- german-tail: the German half of multilingual.mp3; its speech goes on for
  18 s after a first sentence.
- laugh2.mp3 and empty.wav as they are: no speech, every word is invented.

The long-form file comes from make_longform.py (bench_real.py --lengths).
Writes DIR/NAME.wav and DIR/hardset.json ({seed, items: [{name, path, kind,
lang, reference, scored_against, other_reference, what}]}).

    python benchmarks/make_hardset.py /tmp/hardset [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import degrade as dg  # noqa: E402
from benchmarks.make_longform import AUDIO_DIR, decode, write_audio  # noqa: E402

VERSION = 3  # bump when a recipe changes, so a kept set is rebuilt
SENTENCE = "The ferry to the island leaves at half past nine."
ALTERNATIONS = 8
# multilingual.mp3 reads the licence in English, then in German, with 1.9 s of
# digital silence between (29.1-31.0 s): cut there, and check it is silent.
LANGUAGE_CUT = (29.5, 30.5)
# The crosstalk clip's first voice stops in the pause after "furnished to do so," (21.0 s).
CROSSTALK_CUT = (21.0, "furnished to do so,")
SPEECH_LEVEL = 0.08


def split_languages(audio: np.ndarray, text: str) -> tuple[tuple[np.ndarray, str],
                                                              tuple[np.ndarray, str]]:
    """multilingual.mp3 as (English audio, text) and (German audio, text)."""
    en_end, de_start = (int(t * dg.SAMPLE_RATE) for t in LANGUAGE_CUT)
    gap = audio[int(29.2 * dg.SAMPLE_RATE):int(30.9 * dg.SAMPLE_RATE)]
    if gap.size == 0 or float(np.abs(gap).max()) > 1e-3:
        raise ValueError("multilingual.mp3 is not the expected recording: no silence at 29-31 s")
    head, sep, tail = text.partition("Jedem")
    if not sep:
        raise ValueError("multilingual.mp3's reference has no German part ('Jedem ...')")
    return (audio[:en_end], head.strip()), (audio[de_start:], (sep + tail).strip())


def head_until(audio: np.ndarray, text: str, seconds: float,
               last_words: str) -> tuple[np.ndarray, str]:
    """The first `seconds` of a recording and its text up to `last_words`, cut in a pause."""
    cut = int(seconds * dg.SAMPLE_RATE)
    around = audio[cut - 800:cut + 800]
    if around.size == 0 or dg.rms(around) > 0.05 * dg.active_rms(audio):
        raise ValueError(f"no pause at {seconds} s to cut the recording in")
    end = text.find(last_words)
    if end < 0:
        raise ValueError(f"the reference has no {last_words!r}")
    return audio[:cut], text[:end + len(last_words)].strip()


def espeak(text: str) -> np.ndarray | None:
    """One sentence said by espeak-ng, at 16 kHz; None where espeak-ng is not installed."""
    exe = shutil.which("espeak-ng")
    if exe is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "s.wav"
        subprocess.run([exe, "-w", str(out), text], check=True, capture_output=True)
        return decode(out)


def alternate(a: tuple[np.ndarray, str], b: tuple[np.ndarray, str],
              times: int, pause: float) -> tuple[np.ndarray, str]:
    """A B A B ...: `times` pairs with `pause` seconds between every two; texts likewise."""
    parts = [a[0], b[0]] * times
    return dg.concat(parts, pause), " ".join([a[1].strip(), b[1].strip()] * times)


def recipes(audio_dir: Path, seed: int) -> dict[str, Callable[[], dict[str, Any]]]:
    """Each clip's recipe, run only when asked: NAME -> () -> {audio, reference, ...}."""
    refs = json.loads((audio_dir / "refs.json").read_text(encoding="utf-8"))
    cache: dict[str, np.ndarray] = {}

    def load(name: str) -> np.ndarray:
        if name not in cache:
            cache[name] = dg.at_level(decode(audio_dir / name), SPEECH_LEVEL)
        return cache[name]

    def text(name: str) -> str:
        return str(refs[name]["text"]).strip()

    def halves() -> tuple[tuple[np.ndarray, str], tuple[np.ndarray, str]]:
        return split_languages(load("multilingual.mp3"), text("multilingual.mp3"))

    def two_english() -> tuple[np.ndarray, str]:
        audio = dg.concat([load("jfk.flac"), load("stereo_diarization.wav")], 0.8)
        return audio, f"{text('jfk.flac')} {text('stereo_diarization.wav')}"

    def crosstalk() -> dict[str, Any]:
        en, en_text = head_until(*halves()[0], *CROSSTALK_CUT)
        other, other_text = two_english()
        return {"audio": dg.peak_safe(dg.overlay(en, other, 0)),
                "reference": en_text, "other_reference": other_text, "lang": "en",
                "scored_against": "voice the model follows (multilingual.mp3, first 21 s)",
                "what": "two recordings over each other at the same level"}

    def telephone() -> dict[str, Any]:
        audio, ref = two_english()
        return {"audio": dg.hard_clip(dg.band_limit(audio), drive_db=12.0), "reference": ref,
                "lang": "en", "what": "300-3400 Hz band, driven 12 dB into clipping"}

    def music() -> dict[str, Any]:
        (en, en_text), _ = halves()
        bed = dg.tones(en.size / dg.SAMPLE_RATE, seed)
        return {"audio": dg.mix_at_snr(en, bed, 8.0), "reference": en_text, "lang": "en",
                "what": "music-like tones under speech at 8 dB SNR"}

    def babble() -> dict[str, Any]:
        audio, ref = two_english()
        (_, _), (de, _) = halves()
        voices = [load("smartphone.mp3"), de, load("smartphone.mp3")[::-1].copy(),
                  dg.concat([load("punctuations.mp3"), load("hotwords.mp3"),
                             load("bonjour.wav")], 0.3)]
        bed = dg.babble(voices, audio.size / dg.SAMPLE_RATE, seed)
        return {"audio": dg.mix_at_snr(audio, bed, 6.0), "reference": ref, "lang": "en",
                "what": "four other talkers under speech at 6 dB SNR"}

    def alternation() -> dict[str, Any]:
        said = espeak(SENTENCE)
        if said is None:
            raise LookupError("espeak-ng is not installed")
        audio, ref = alternate((load("jfk.flac"), text("jfk.flac")),
                               (dg.at_level(said, SPEECH_LEVEL), SENTENCE), ALTERNATIONS, 0.7)
        return {"audio": audio, "reference": ref, "lang": "en",
                "what": f"jfk.flac and one espeak-ng sentence alternated {ALTERNATIONS} times"}

    def german_tail() -> dict[str, Any]:
        _, (de, de_text) = halves()
        return {"audio": de, "reference": de_text, "lang": "de",
                "what": "German; the speech goes on after a first sentence"}

    return {"crosstalk": crosstalk, "telephone": telephone, "music": music, "babble": babble,
            "alternation": alternation, "german-tail": german_tail}


NONSPEECH_FILES = ("laugh2.mp3", "empty.wav")


def build(out_dir: Path, seed: int = 1, audio_dir: Path = AUDIO_DIR,
          only: tuple[str, ...] = ()) -> dict[str, Any]:
    """Write the clips and hardset.json into `out_dir`; returns the manifest.

    A manifest already there for the same seed and recipe version is
    returned as it is, so a run that keeps its work folder builds once.
    """
    manifest_path = out_dir / "hardset.json"
    if manifest_path.exists():
        kept: dict[str, Any] = json.loads(manifest_path.read_text(encoding="utf-8"))
        if kept.get("seed") == seed and kept.get("version") == VERSION \
                and kept.get("only") == list(only) \
                and all(Path(i["path"]).exists() for i in kept["items"]):
            return kept
    out_dir.mkdir(parents=True, exist_ok=True)
    items: list[dict[str, Any]] = []
    skipped: dict[str, str] = {}
    for name, recipe in recipes(audio_dir, seed).items():
        if only and name not in only:
            continue
        try:
            made = recipe()
        except LookupError as exc:
            skipped[name] = str(exc)
            continue
        path = out_dir / f"{name}.wav"
        audio = made.pop("audio")
        write_audio(path, iter([audio]))
        items.append({"name": f"{name}.wav", "path": str(path), "kind": "speech",
                      "seconds": round(audio.size / dg.SAMPLE_RATE, 3), **made})
    for name in NONSPEECH_FILES:
        if not only or name in only:
            items.append({"name": name, "path": str(audio_dir / name), "kind": "nonspeech",
                          "lang": None, "reference": "", "what": "no speech"})
    manifest = {"seed": seed, "version": VERSION, "only": list(only), "items": items,
                "skipped": skipped}
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n",
                             encoding="utf-8")
    return manifest


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out_dir", type=Path)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--audio-dir", type=Path, default=AUDIO_DIR)
    args = ap.parse_args()
    manifest = build(args.out_dir, args.seed, args.audio_dir)
    for item in manifest["items"]:
        print(f"{item['name']:<18} {item.get('seconds', '-')!s:>8} s  {item['what']}")
    for name, why in manifest["skipped"].items():
        print(f"{name}: left out ({why})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
