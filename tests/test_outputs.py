"""Transcript formats and the never-half-written, never-overwritten rules."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from voxtrald import outputs

SEGMENTS = [
    {"start": 0.0, "end": 2.5, "text": " Hello there."},
    {"start": 2.5, "end": 3661.042, "text": " A long pause."},
    {"start": 3661.5, "end": 3662.0, "text": "  "},
]


def test_srt_and_vtt_timestamps() -> None:
    srt = outputs.render_srt(SEGMENTS)
    assert srt.startswith("1\n00:00:00,000 --> 00:00:02,500\nHello there.\n")
    assert "2\n00:00:02,500 --> 01:01:01,042\nA long pause.\n" in srt
    assert "3\n" not in srt  # blank segments are not cues
    vtt = outputs.render_vtt(SEGMENTS)
    assert vtt.startswith("WEBVTT\n")
    assert "00:00:02.500 --> 01:01:01.042\nA long pause." in vtt


def test_txt_and_json() -> None:
    assert outputs.render_txt(SEGMENTS) == "Hello there.\nA long pause.\n"
    assert outputs.render_txt([]) == ""
    doc = json.loads(outputs.render_json(SEGMENTS, {"language": "en", "model": "m"}))
    assert doc["text"] == "Hello there. A long pause."
    assert doc["language"] == "en" and len(doc["segments"]) == 3


def test_free_stem_skips_any_taken_format(tmp_path: Path) -> None:
    assert outputs.free_stem(tmp_path, "talk", ["txt", "srt"]) == "talk"
    (tmp_path / "talk.srt").write_text("x")
    assert outputs.free_stem(tmp_path, "talk", ["txt", "srt"]) == "talk-2"
    (tmp_path / "talk-2.txt").write_text("x")
    assert outputs.free_stem(tmp_path, "talk", ["txt", "srt"]) == "talk-3"


def test_write_is_all_or_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    written = outputs.write_transcripts(tmp_path, "a", ["txt", "json"], SEGMENTS, {})
    assert [p.name for p in written] == ["a.txt", "a.json"]
    # Readable like any file the user makes, not mkstemp's private 0600.
    assert written[0].stat().st_mode & 0o777 == outputs._FILE_MODE

    def broken(segments: object, meta: object) -> str:
        raise OSError(28, "No space left on device")

    monkeypatch.setitem(outputs.RENDERERS, "json", broken)
    with pytest.raises(OSError):
        outputs.write_transcripts(tmp_path, "b", ["txt", "json"], SEGMENTS, {})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "a.txt"]


def test_stale_temp_files_are_removed(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / f"{outputs.TEMP_PREFIX}abc.txt").write_text("half")
    (tmp_path / "keep.txt").write_text("done")
    assert outputs.remove_stale_temps(tmp_path) == 1
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == ["keep.txt"]
