"""The hard set built for real: from the shared recordings, with espeak-ng, through av.

Checks what a benchmark run relies on: every clip is written and decodes
as 16 kHz mono, the references are the right texts in the right order,
the degradations are audible in the written files, and the same seed
writes the same bytes. Recordings are read in place from ../shared/audio.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from benchmarks import make_hardset
from benchmarks.make_longform import decode
from benchmarks.metrics import normalise

AUDIO = Path(__file__).resolve().parents[3].parent / "shared" / "audio"

pytestmark = pytest.mark.skipif(not (AUDIO / "refs.json").exists(),
                                reason="needs the shared recordings in ../shared/audio")


def _refs() -> dict[str, dict[str, str]]:
    refs: dict[str, dict[str, str]] = json.loads((AUDIO / "refs.json").read_text())
    return refs


def test_the_hard_set_is_built_with_its_references(tmp_path: Path) -> None:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (the alternation clip needs it)")
    manifest = make_hardset.build(tmp_path / "hard", seed=1, audio_dir=AUDIO)
    items = {i["name"]: i for i in manifest["items"]}
    assert set(items) == {"crosstalk.wav", "telephone.wav", "music.wav", "babble.wav",
                          "alternation.wav", "german-tail.wav", "laugh2.mp3", "empty.wav"}
    assert manifest["skipped"] == {}
    refs = _refs()
    jfk, stereo = refs["jfk.flac"]["text"], refs["stereo_diarization.wav"]["text"]
    english, german = refs["multilingual.mp3"]["text"].split("Jedem")

    for name, item in items.items():
        if item["kind"] == "nonspeech":
            assert Path(item["path"]).parent == AUDIO and item["reference"] == ""
            continue
        audio = decode(Path(item["path"]))
        assert audio.size / 16000 == pytest.approx(item["seconds"], abs=0.01), name
        assert 0.05 < float(np.abs(audio).max()) <= 0.9 + 1e-3, name

    # The crosstalk's first voice is cut in a pause, and its reference with it.
    head = english[:english.index("furnished to do so,") + len("furnished to do so,")]
    assert normalise(items["crosstalk.wav"]["reference"]) == normalise(head)
    assert items["crosstalk.wav"]["seconds"] == pytest.approx(21.0)
    assert normalise(items["music.wav"]["reference"]) == normalise(english)
    assert normalise(items["crosstalk.wav"]["other_reference"]) == normalise(f"{jfk} {stereo}")
    assert "multilingual.mp3" in items["crosstalk.wav"]["scored_against"]
    assert normalise(items["telephone.wav"]["reference"]) == normalise(f"{jfk} {stereo}")
    assert normalise(items["german-tail.wav"]["reference"]) == normalise("Jedem" + german)
    alternation = normalise(items["alternation.wav"]["reference"])
    pair = normalise(jfk) + normalise(make_hardset.SENTENCE)
    assert alternation == pair * make_hardset.ALTERNATIONS
    assert items["alternation.wav"]["seconds"] > make_hardset.ALTERNATIONS * 11.0

    # The phone line: next to nothing left below 250 Hz or above 3.6 kHz.
    phone = decode(Path(items["telephone.wav"]["path"]))
    spectrum = np.abs(np.fft.rfft(phone)) ** 2
    freqs = np.fft.rfftfreq(phone.size, 1 / 16000)
    outside = spectrum[(freqs < 250) | (freqs > 3600)].sum()
    assert outside < 0.01 * spectrum.sum()


def test_the_same_seed_writes_the_same_files(tmp_path: Path) -> None:
    only = ("music.wav", "babble.wav")
    names = tuple(n.removesuffix(".wav") for n in only)
    first = make_hardset.build(tmp_path / "a", seed=3, audio_dir=AUDIO, only=names)
    second = make_hardset.build(tmp_path / "b", seed=3, audio_dir=AUDIO, only=names)
    other = make_hardset.build(tmp_path / "c", seed=4, audio_dir=AUDIO, only=names)
    for name in only:
        a, b, c = (Path(m["items"][0]["path"]).parent / name for m in (first, second, other))
        assert a.read_bytes() == b.read_bytes()
        assert a.read_bytes() != c.read_bytes()
    # Kept: a second build in the same folder returns the manifest without rewriting.
    before = (tmp_path / "a" / "music.wav").stat().st_mtime_ns
    again = make_hardset.build(tmp_path / "a", seed=3, audio_dir=AUDIO, only=names)
    assert again == first and (tmp_path / "a" / "music.wav").stat().st_mtime_ns == before
