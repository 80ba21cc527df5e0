"""Speaker labels: words to turns, and what txt, srt, vtt and json show; renames."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from voxtrald.jobs import speaker_labels
from voxtrald.transcripts import outputs, relabel
from voxtrald.transcripts.segments import Segment, Word
from voxtrald.transcripts.speaker_turns import Timeline, smooth


def seg(start: float, words: list[tuple[str, float, float]]) -> Segment:
    ws = tuple(Word(f" {w}", a, b, 0.9) for w, a, b in words)
    return Segment(start, ws[-1].end, "".join(w.word for w in ws).strip(), ws)


# Speaker 1 for 0-4 s, speaker 2 for 4-8 s (windows every 0.8 s).
WINDOWS = [(0.8 * i + 0.8, 1 if 0.8 * i + 0.8 < 4 else 2) for i in range(9)]


def test_a_lone_window_between_two_of_another_speaker_is_taken_as_theirs() -> None:
    assert smooth([1, 1, 2, 1, 1]) == [1, 1, 1, 1, 1]
    assert smooth([1, 2, 2, 1]) == [1, 2, 2, 1]


def test_words_take_the_speaker_of_their_time_and_segments_split_at_changes() -> None:
    s = seg(2.0, [("so", 2.0, 2.4), ("then", 2.5, 3.0), ("yes", 5.0, 5.4), ("indeed", 5.5, 6)])
    out = speaker_labels.apply([s], WINDOWS)
    assert [(x.text, x.speaker) for x in out] == [("so then", 1), ("yes indeed", 2)]
    assert [w.speaker for w in out[1].words] == [2, 2]
    assert out[0].start == 2.0 and out[1].end == 6.0


def test_no_windows_leave_segments_unlabelled() -> None:
    s = seg(0, [("hi", 0, 0.5)])
    assert speaker_labels.apply([s], []) == [s]
    assert speaker_labels.meta([s], {}) == {}


def test_turns_cover_each_window_and_meet_halfway() -> None:
    turns = Timeline(WINDOWS).turns()
    assert [t.speaker for t in turns] == [1, 2]
    assert turns[0].start == 0.0 and turns[0].end == pytest.approx(3.6, abs=0.01)
    assert turns[1].end == pytest.approx(8.0, abs=0.01)


def labelled() -> tuple[list[Segment], dict]:
    segs = speaker_labels.apply([seg(0.5, [("hello", 0.5, 1.0), ("there", 1.1, 1.5)]),
                                 seg(4.5, [("good", 4.5, 5.0), ("morning", 5.1, 5.6)]),
                                 seg(6.0, [("to", 6.0, 6.3), ("you", 6.4, 6.8)])], WINDOWS)
    return segs, speaker_labels.meta(segs, {})


def test_txt_is_in_paragraphs_with_labels() -> None:
    segs, meta = labelled()
    assert outputs.render_txt(segs, meta) == (
        "Speaker 1: hello there\n\nSpeaker 2: good morning to you\n")


def test_vtt_uses_voice_spans_and_srt_labels_only_a_change() -> None:
    segs, meta = labelled()
    vtt = outputs.render_vtt(segs, meta)
    assert "<v Speaker 1>hello there" in vtt and "<v Speaker 2>good morning" in vtt
    srt = outputs.render_srt(segs, meta)
    assert "Speaker 1: hello there" in srt and "Speaker 2: good morning" in srt
    assert srt.count("Speaker 2") == 1  # the next cue of the same speaker is not labelled


def test_json_has_speaker_on_segments_and_words_and_the_list() -> None:
    segs, meta = labelled()
    doc = json.loads(outputs.render_json(segs, meta))
    assert [s["speaker"] for s in doc["segments"]] == [1, 2, 2]
    assert all(w["speaker"] == s["speaker"] for s in doc["segments"] for w in s["words"])
    assert [(s["id"], s["label"]) for s in doc["speakers"]] == [(1, "Speaker 1"),
                                                                 (2, "Speaker 2")]


def test_a_single_speaker_gets_no_labels_in_text_formats() -> None:
    segs = speaker_labels.apply([seg(0.5, [("hello", 0.5, 1.0)])], [(1.0, 1), (1.8, 1)])
    meta = speaker_labels.meta(segs, {})
    assert meta["speakers"][0]["id"] == 1
    assert outputs.render_txt(segs, meta) == "hello\n"
    assert "<v" not in outputs.render_vtt(segs, meta)
    assert "Speaker" not in outputs.render_srt(segs, meta)


def write_set(folder: Path) -> Path:
    segs, meta = labelled()
    outputs.write_transcripts(folder, "talk", ["txt", "vtt", "srt", "json"], segs, meta)
    return folder / "talk.json"


def test_a_rename_rewrites_the_whole_set_and_keeps_the_names(tmp_path: Path) -> None:
    path = write_set(tmp_path)
    relabel.rename(path, ["txt", "vtt", "srt", "json"], {1: "Alice"})
    relabel.rename(path, ["txt", "vtt", "srt", "json"], {2: "Bob"})
    assert (tmp_path / "talk.txt").read_text().startswith("Alice: hello there\n\nBob: ")
    assert "<v Bob>" in (tmp_path / "talk.vtt").read_text()
    segs, meta = relabel.read_json(path)
    listed = relabel.listing(segs, meta)
    assert [(s["label"], s["first_words"]) for s in listed] == [
        ("Alice", "hello there"), ("Bob", "good morning to you")]


def test_names_are_checked_and_cleaned() -> None:
    assert relabel.parse_names({"1": " Dr <b>Who</b>\n"}, [1, 2]) == {1: "Dr bWho/b"}
    for bad in ({"3": "X"}, {"x": "X"}, {"1": "<>"}, {"1": 5}):
        with pytest.raises(relabel.RelabelError):
            relabel.parse_names(bad, [1, 2])


def test_an_edited_json_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    path = write_set(tmp_path)
    before = (tmp_path / "talk.txt").read_text()
    path.write_text("{not json")
    with pytest.raises(relabel.RelabelError, match="read back"):
        relabel.rename(path, ["txt", "json"], {1: "Alice"})
    assert (tmp_path / "talk.txt").read_text() == before


def test_old_data_without_speakers_reads_as_unlabelled() -> None:
    s = Segment.from_dict({"start": 0, "end": 1, "text": "x", "speaker": "1",
                           "words": [{"word": "x", "start": 0, "end": 1, "speaker": True}]})
    assert s.speaker is None and s.words[0].speaker is None
    assert "speaker" not in s.to_dict() and "speaker" not in s.to_dict()["words"][0]
