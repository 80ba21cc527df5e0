"""The speakers setting (config, sidecar), the wire and the checkpoints of voice windows."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from voxtrald import config
from voxtrald.engine.speakers.choice import SpeakerChoice, parse
from voxtrald.jobs import speaker_sidecar
from voxtrald.store.chunks import Chunk
from voxtrald.store.jobs import JobStore
from voxtrald.transcripts.segments import Segment
from voxtrald.transcripts.voices import Voice, voices_from_list
from voxtrald.worker import protocol as wp

VECTOR = base64.b64encode(bytes(range(256)) * 2).decode()


def load(tmp_path: Path, text: str) -> config.Config:
    path = tmp_path / "c.toml"
    path.write_text(text)
    return config.load(path)


@pytest.mark.parametrize(("text", "want"), [
    ("auto", SpeakerChoice(True, None)), ("OFF", SpeakerChoice(False, None)),
    ("3", SpeakerChoice(True, 3)), (" 1 ", SpeakerChoice(True, 1)),
])
def test_the_choices(text: str, want: SpeakerChoice) -> None:
    assert parse(text) == want


@pytest.mark.parametrize("bad", ["0", "21", "many", "-2", "", "2.5"])
def test_bad_choices_say_what_is_allowed(bad: str) -> None:
    with pytest.raises(ValueError, match="auto"):
        parse(bad)


def test_the_config_takes_a_word_or_a_number(tmp_path: Path) -> None:
    assert load(tmp_path, "").engine.speakers == "auto"
    assert load(tmp_path, "[engine]\nspeakers = 2\n").engine.speakers == "2"
    assert load(tmp_path, '[engine]\nspeakers = "off"\n').engine.speakers == "off"
    for bad in ('"lots"', "0", "true"):
        with pytest.raises(config.ConfigError, match="engine.speakers"):
            load(tmp_path, f"[engine]\nspeakers = {bad}\n")


def test_a_sidecar_overrides_and_a_bad_one_is_ignored_with_a_warning(tmp_path: Path) -> None:
    source = tmp_path / "talk.mp3"
    source.write_bytes(b"x")
    assert speaker_sidecar.for_source(source, "auto") == ("auto", ())
    (tmp_path / "talk.speakers.txt").write_text("3\n")
    assert speaker_sidecar.for_source(source, "auto") == ("3", ())
    (tmp_path / "talk.speakers.txt").write_bytes(b"\xff" * 500)
    chosen, warnings = speaker_sidecar.for_source(source, "off")
    assert chosen == "off" and "talk.speakers.txt was ignored" in warnings[0]


def test_voice_windows_cross_the_wire_and_bad_ones_are_dropped() -> None:
    voice = Voice(1.0, 2.6, VECTOR)
    msg = wp.decode(wp.encode(wp.ChunkDone(1, 0, 10.0, voices=(voice,))))
    assert isinstance(msg, wp.ChunkDone) and msg.voices == (voice,)
    req = wp.decode(wp.encode(wp.Transcribe(1, "x", voices=(voice,),
                                            options=wp.JobOptions(speakers="2"))))
    assert isinstance(req, wp.Transcribe) and req.voices == (voice,)
    assert req.options.speakers == "2"
    done = wp.decode('{"kind": "done", "job_id": 1, "duration": 1, "chunks": 1,'
                     ' "speaker_windows": [[1.2, 1], [2, 2], ["x", 1], [3, -1], 7]}')
    assert isinstance(done, wp.Done) and done.speaker_windows == ((1.2, 1), (2.0, 2))
    assert voices_from_list([{"start": 0, "end": 1, "v": "short"},
                             {"start": 2, "end": 1, "v": VECTOR},
                             {"start": 0, "end": 1.6, "v": VECTOR}, "x"]) == (
        Voice(0.0, 1.6, VECTOR),)


def test_voice_windows_are_checkpointed_with_their_chunk(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.sqlite3")
    job_id = store.add("/in/a.wav", "a.wav", "", "abc", 10, 1.0, 3)[0].id
    store.start(job_id)
    voice = Voice(0.0, 1.6, VECTOR)
    job = store.get(job_id)
    assert job is not None
    store.save_chunk(job_id, Chunk(0, 10.0, (Segment(0, 1, "hi"),), "en", 0.9, (voice,)),
                     job.sha256)
    assert store.chunks(job_id)[0].voices == (voice,)
    store.set_speaker_names(job_id, {1: "Alice"})
    assert store.speaker_names(job_id) == {1: "Alice"}

