"""Gaps in the written transcripts: marked in txt/srt/vtt, listed in the JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from voxtrald.config import ConfigError, load
from voxtrald.engine.coverage import gap
from voxtrald.transcripts import outputs
from voxtrald.transcripts.segments import Segment, Word


def said(text: str, start: float, end: float) -> Segment:
    return Segment(start, end, " " + text, (Word(" " + text, start, end, 0.9),), -0.2, 0.0, 1.1)


SEGMENTS = [said("Before.", 0.0, 1.0), gap(1.5, 4.0, "removed_text"), said("After.", 4.5, 5.0)]


def test_every_format_shows_the_gap(tmp_path: Path) -> None:
    outputs.write_transcripts(tmp_path, "talk", outputs.FORMATS, SEGMENTS, {"warnings": ["x"]})
    assert (tmp_path / "talk.txt").read_text() == "Before.\n[inaudible]\nAfter.\n"
    assert "[inaudible]" in (tmp_path / "talk.srt").read_text()
    assert "00:00:01.500 --> 00:00:04.000\n[inaudible]" in (tmp_path / "talk.vtt").read_text()
    doc = json.loads((tmp_path / "talk.json").read_text())
    assert doc["text"] == "Before. After."
    assert [s["text"] for s in doc["segments"]] == ["Before.", "After."]
    assert doc["gaps"] == [{"start": 1.5, "end": 4.0, "reason":
                            "what the model wrote was judged a loop or invented"}]


def test_marks_can_be_turned_off_but_the_json_keeps_the_gap(tmp_path: Path) -> None:
    outputs.write_transcripts(tmp_path, "talk", outputs.FORMATS, SEGMENTS, {}, mark_gaps=False)
    assert (tmp_path / "talk.txt").read_text() == "Before.\nAfter.\n"
    assert "inaudible" not in (tmp_path / "talk.vtt").read_text()
    assert len(json.loads((tmp_path / "talk.json").read_text())["gaps"]) == 1


def test_the_settings_take_mark_gaps_and_languages(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[outputs]\nmark_gaps = false\n[engine]\nlanguages = ["en", "fr"]\n')
    cfg = load(path)
    assert cfg.outputs.mark_gaps is False and cfg.engine.languages == ["en", "fr"]
    path.write_text('[engine]\nlanguages = ["English"]\n')
    with pytest.raises(ConfigError, match="engine.languages"):
        load(path)
