"""Transcript formats and the never-half-written, never-overwritten rules."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest

from voxtrald import config
from voxtrald.files import atomic
from voxtrald.transcripts import outputs
from voxtrald.transcripts.segments import REMOVED_FLAGS, Segment, Word

SEGMENTS = [
    Segment(0.0, 2.5, " Hello there."),
    Segment(3655.0, 3661.042, " A long pause."),
    Segment(3661.5, 3662.0, "  "),
]

WORDS = (Word(" Bonjour", 0.52, 0.9, 0.981), Word(" à", 0.9, 1.0, 0.75),
         Word(" tous.", 1.0, 1.4, 0.9))
LOOP = Segment(2.0, 6.0, " Okay. Okay. Okay. Okay.", compression_ratio=3.1,
               flags=("repetition",))
INVENTED = Segment(6.0, 8.0, " I don't know why yet.", no_speech_prob=0.93,
                   flags=("hallucination", "no_speech"))
RICH = [
    Segment(0.5, 1.4, " Bonjour à tous.", words=WORDS, avg_logprob=-0.21234567,
            no_speech_prob=0.01, compression_ratio=1.2, flags=("low_confidence",)),
    LOOP,
    INVENTED,
    Segment(8.0, 9.0, " Merci.", avg_logprob=float("-inf"), compression_ratio=float("nan")),
]
META = {
    "source": "talk.mp3", "language": "fr", "language_probability": 0.97, "duration": 11.0,
    "model": "default", "compute_type": "int8", "beam_size": 5,
    "transcribed_at": "2025-01-01T00:00:00Z",
    "timing": {"wall_seconds": 1.5, "real_time_factor": 0.136, "chunks": 1},
    "warnings": ["decoded 9.0 s of 11.0 s"], "generator": "Voxtral Transcription 1.0.0",
}


def test_srt_and_vtt_timestamps() -> None:
    srt = outputs.render_srt(SEGMENTS)
    assert srt.startswith("1\n00:00:00,000 --> 00:00:02,500\nHello there.\n")
    assert "2\n01:00:55,000 --> 01:01:01,042\nA long pause.\n" in srt
    assert "3\n" not in srt  # blank segments are not cues
    vtt = outputs.render_vtt(SEGMENTS)
    assert vtt.startswith("WEBVTT\n")
    assert "01:00:55.000 --> 01:01:01.042\nA long pause." in vtt


def test_txt_and_json() -> None:
    assert outputs.render_txt(SEGMENTS) == "Hello there.\nA long pause.\n"
    assert outputs.render_txt([]) == ""
    doc = json.loads(outputs.render_json(SEGMENTS, {"language": "en", "model": "m"}))
    assert doc["text"] == "Hello there. A long pause."
    assert doc["language"] == "en" and len(doc["segments"]) == 3


def test_json_carries_words_quality_and_warnings() -> None:
    doc = json.loads(outputs.render_json(RICH, META))
    assert list(doc)[:11] == ["source", "language", "language_probability", "duration",
                              "model", "compute_type", "beam_size", "transcribed_at", "timing",
                              "warnings", "generator"]
    assert doc["language"] == "fr" and doc["language_probability"] == 0.97
    assert doc["warnings"] == ["decoded 9.0 s of 11.0 s"]
    assert doc["text"] == "Bonjour à tous. Merci."
    first = doc["segments"][0]
    assert first == {
        "start": 0.5, "end": 1.4, "text": "Bonjour à tous.",
        "words": [{"word": " Bonjour", "start": 0.52, "end": 0.9, "probability": 0.981},
                  {"word": " à", "start": 0.9, "end": 1.0, "probability": 0.75},
                  {"word": " tous.", "start": 1.0, "end": 1.4, "probability": 0.9}],
        "avg_logprob": -0.2123, "no_speech_prob": 0.01, "compression_ratio": 1.2,
        "flags": ["low_confidence"], "removed": False,
    }
    # Not finite numbers are null, never the invalid NaN/Infinity.
    assert doc["segments"][3]["avg_logprob"] is None
    assert doc["segments"][3]["compression_ratio"] is None


def test_removed_segments_stay_only_in_the_json() -> None:
    assert {"repetition", "hallucination"} <= REMOVED_FLAGS
    doc = json.loads(outputs.render_json(RICH, META))
    kept = [(s["text"], s["flags"], s["removed"]) for s in doc["segments"][1:3]]
    assert kept == [("Okay. Okay. Okay. Okay.", ["repetition"], True),
                    ("I don't know why yet.", ["hallucination", "no_speech"], True)]
    for render in (outputs.render_txt, outputs.render_srt, outputs.render_vtt):
        text = render(RICH, META)
        assert "Okay" not in text and "know why" not in text
        assert "Bonjour" in text and "Merci." in text
    assert "Okay" not in doc["text"]


def test_meta_defaults_and_untrusted_values() -> None:
    doc = json.loads(outputs.render_json([], {"source": "bad\udcffname.wav",
                                              "timing": {"rtf": float("inf")},
                                              "text": "not mine", "extra": Path("/x")}))
    assert doc["source"] == "bad\ufffdname.wav"
    assert doc["language"] is None and doc["language_probability"] is None
    assert doc["warnings"] == [] and doc["duration"] is None
    assert doc["timing"] == {"rtf": None} and doc["extra"] == "/x"
    assert doc["text"] == "" and doc["segments"] == []


def test_vtt_escapes_markup_and_srt_the_arrow() -> None:
    seg = [Segment(0.0, 1.0, " a <b> & c --> d")]
    assert "a &lt;b&gt; &amp; c --&gt; d" in outputs.render_vtt(seg)
    assert "a <b> & c -> d" in outputs.render_srt(seg)


def test_subtitle_cues_are_split_by_the_word_timings() -> None:
    words = tuple(Word(f" w{i}", i * 0.5, i * 0.5 + 0.4, 0.9) for i in range(40))
    seg = Segment(0.0, 20.0, "".join(w.word for w in words), words=words)
    srt = outputs.render_srt([seg])
    blocks = srt.strip().split("\n\n")
    assert len(blocks) >= 3  # 20 s of speech: at most 7 s per cue
    assert blocks[0].split("\n")[1] == "00:00:00,000 --> 00:00:06,900"
    assert all(len(line) <= 42 for b in blocks for line in b.split("\n")[2:])


def test_formats_come_from_the_renderers() -> None:
    assert outputs.FORMATS == tuple(outputs.RENDERERS) == ("txt", "srt", "vtt", "json")
    assert config.OUTPUT_FORMATS is outputs.FORMATS
    with pytest.raises(ValueError, match="doc"):
        outputs.write_transcripts(Path("/nonexistent"), "a", ["txt", "doc"], [], {})


def test_free_stem_skips_any_taken_format(tmp_path: Path) -> None:
    assert outputs.free_stem(tmp_path, "talk", ["txt", "srt"]) == "talk"
    (tmp_path / "talk.srt").write_text("x")
    assert outputs.free_stem(tmp_path, "talk", ["txt", "srt"]) == "talk-2"
    (tmp_path / "talk-2.txt").write_text("x")
    assert outputs.free_stem(tmp_path, "talk", ["txt", "srt"]) == "talk-3"
    # A dangling link is taken too: nothing is ever written through one.
    (tmp_path / "talk-3.txt").symlink_to(tmp_path / "elsewhere")
    assert outputs.free_stem(tmp_path, "talk", ["txt", "srt"]) == "talk-4"


def test_a_name_at_the_filesystem_limit_gets_its_transcripts(tmp_path: Path) -> None:
    long_stem = "é" * 125 + "x"  # 251 bytes: 'STEM.json' would be 256
    stem = outputs.free_stem(tmp_path, long_stem, outputs.FORMATS)
    assert stem != long_stem and stem.startswith("é" * 100)
    written = outputs.write_transcripts(tmp_path, stem, outputs.FORMATS, SEGMENTS, {})
    assert all(len(os.fsencode(p.name)) <= 255 for p in written)
    assert sorted(p.suffix for p in written) == [".json", ".srt", ".txt", ".vtt"]
    # Same long name: the hash keeps it apart from the first, a clash still adds a suffix.
    second = outputs.free_stem(tmp_path, long_stem, outputs.FORMATS)
    assert second != stem and second.endswith("-2")
    other = outputs.free_stem(tmp_path, "é" * 125 + "y", outputs.FORMATS)
    assert other not in (stem, second) and not other.endswith("-2")


def test_write_is_all_or_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    written = outputs.write_transcripts(tmp_path, "a", ["txt", "json"], SEGMENTS, {})
    assert [p.name for p in written] == ["a.txt", "a.json"]
    # Readable like any file the user makes, not mkstemp's private 0600.
    assert written[0].stat().st_mode & 0o777 == outputs.FILE_MODE
    private = outputs.write_transcripts(tmp_path, "p", ["txt"], SEGMENTS, {}, mode=0o600)
    assert private[0].stat().st_mode & 0o777 == 0o600

    def broken(segments: object, meta: object) -> str:
        raise OSError(28, "No space left on device")

    monkeypatch.setitem(outputs.RENDERERS, "json", broken)
    with pytest.raises(OSError):
        outputs.write_transcripts(tmp_path, "b", ["txt", "json"], SEGMENTS, {})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "a.txt", "p.txt"]


def test_a_full_disk_while_staging_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The third file's fsync fails as on a full disk: no temp, no part of the set."""
    real_fsync = os.fsync
    calls = {"n": 0}

    def fsync(fd: int) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(atomic.os, "fsync", fsync)
    with pytest.raises(OSError, match="No space"):
        outputs.write_transcripts(tmp_path, "a", outputs.FORMATS, RICH, META)
    assert list(tmp_path.iterdir()) == []


def test_a_failed_rename_takes_back_the_new_files_of_the_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_replace = os.replace
    calls = {"n": 0}

    def replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(errno.EIO, "Input/output error")
        real_replace(src, dst)

    monkeypatch.setattr(atomic.os, "replace", replace)
    with pytest.raises(OSError, match="Input/output"):
        outputs.write_transcripts(tmp_path, "a", outputs.FORMATS, RICH, META)
    assert list(tmp_path.iterdir()) == []


def test_stale_temp_files_are_removed(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / f"{outputs.TEMP_PREFIX}abc.txt").write_text("half")
    (tmp_path / "keep.txt").write_text("done")
    assert outputs.remove_stale_temps(tmp_path) == 1
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == ["keep.txt"]
    assert outputs.remove_stale_temps(tmp_path / "missing") == 0
