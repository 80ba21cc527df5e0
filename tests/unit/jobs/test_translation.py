"""Translation through the runner with a scripted worker: a second pass, written beside."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.fake_worker import chunked
from tests.support.job_rig import Rig
from voxtrald import config
from voxtrald.jobs import rules
from voxtrald.worker import protocol as wp


def _script(language: str, fail_translation: bool = False):  # type: ignore[no-untyped-def]
    seen: list[wp.Transcribe] = []

    def script(req: wp.Transcribe) -> list[wp.Reply | None]:
        seen.append(req)
        if req.options.task == "translate":
            if fail_translation:
                return [wp.Failed(req.job_id, "out of memory")]
            return chunked(req.job_id, ["hello everyone"], language=language)
        return chunked(req.job_id, ["bonjour à tous"], language=language)
    return script, seen


@pytest.fixture
def make_rig(tmp_path: Path) -> Iterator:  # type: ignore[type-arg]
    rigs: list[Rig] = []

    def make(language: str = "fr", fail: bool = False) -> tuple[Rig, list[wp.Transcribe]]:
        script, seen = _script(language, fail)
        rig = Rig(tmp_path, script, **{"outputs.translate": True, "engine.model": "default"})
        rigs.append(rig)
        return rig, seen
    yield make
    for rig in rigs:
        rig.close()


def test_a_french_file_gets_english_files_beside_and_both_texts_in_the_json(
        make_rig) -> None:  # type: ignore[no-untyped-def]
    rig, seen = make_rig("fr")
    rig.drop("talk.wav")
    assert rig.run_next().state == "done"
    assert [r.options.task for r in seen] == ["transcribe", "translate"]
    assert seen[1].options.language == "fr" and seen[1].start_at == 0.0
    out = rig.cfg.paths.transcripts
    assert (out / "talk.txt").read_text() == "bonjour à tous\n"
    assert (out / "talk.en.txt").read_text() == "hello everyone\n"
    assert (out / "talk.en.srt").exists() and (out / "talk.en.vtt").exists()
    assert not (out / "talk.en.json").exists()
    doc = json.loads((out / "talk.json").read_text())
    assert doc["text"] == "bonjour à tous"
    assert doc["translation"]["text"] == "hello everyone"
    assert doc["translation"]["segments"][0]["start"] == 1.0
    # Both texts are found by search, at the same time in the recording.
    assert [(h.file, h.start) for h in rig.store.search("hello", 5)] == [("talk.wav", 1.0)]
    assert [(h.file, h.start) for h in rig.store.search("bonjour", 5)] == [("talk.wav", 1.0)]


def test_an_english_file_is_not_translated_twice(make_rig) -> None:  # type: ignore[no-untyped-def]
    rig, seen = make_rig("en")
    rig.drop("talk.wav")
    assert rig.run_next().state == "done"
    assert [r.options.task for r in seen] == ["transcribe"]
    doc = json.loads((rig.cfg.paths.transcripts / "talk.json").read_text())
    assert doc["translation"] == {"language": "en",
                                  "skipped": "the recording is in English already"}
    assert not (rig.cfg.paths.transcripts / "talk.en.txt").exists()


def test_a_failed_translation_keeps_the_transcript_with_a_warning(
        make_rig) -> None:  # type: ignore[no-untyped-def]
    rig, _seen = make_rig("fr", fail=True)
    rig.drop("talk.wav")
    done = rig.run_next()
    assert done.state == "done"
    assert any("translation failed: out of memory" in w for w in done.warnings)
    assert (rig.cfg.paths.transcripts / "talk.txt").exists()


def test_translate_with_an_english_only_model_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[engine]\nmodel = "tiny.en"\n[outputs]\ntranslate = true\n')
    with pytest.raises(config.ConfigError, match="knows only English"):
        config.load(path)
    path.write_text('[engine]\nmodel = "tiny.en"\n')
    cfg = config.load(path, {"paths.inbox": tmp_path / "in",
                             "paths.state_dir": tmp_path / "st",
                             "paths.transcripts": tmp_path / "out"})
    folder = cfg.paths.inbox / "fr"
    folder.mkdir(parents=True)
    (folder / rules.RULES_NAME).write_text("translate = true\n")
    got = rules.resolve(folder / "a.mp3", cfg)
    assert got.held is not None and "knows only English" in got.held
    assert "key 'translate'" in got.held
