"""Translation through the real daemon and the real default model.

A French recording in a folder whose rules say `translate = true` comes out
twice: in French as before, and in English beside it (NAME.en.*), with both
texts in the JSON; the English is checked for the key words of the sentence.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import DaemonProc

from benchmarks.metrics import normalise
from voxtrald.jobs.rules import RULES_NAME

pytestmark = pytest.mark.e2e

AUDIO = Path(__file__).resolve().parents[2].parent.parent / "shared" / "audio"
needs_audio = pytest.mark.skipif(not (AUDIO / "refs.json").exists(),
                                 reason=f"the shared recordings are not at {AUDIO}")


@needs_audio
def test_a_french_recording_gets_french_and_english_transcripts(
        daemon_factory) -> None:  # type: ignore[no-untyped-def]
    d: DaemonProc = daemon_factory({"engine": {"model": "default"}})
    folder = d.inbox / "to-english"
    folder.mkdir(parents=True)
    (folder / RULES_NAME).write_text('translate = true\nlanguage = "fr"\n')
    d.drop(AUDIO / "punctuations.mp3", "to-english/punctuations.mp3")
    job = d.wait_jobs(1, timeout=300)[0]
    assert job["language"] == "fr" and not job["warnings"], job
    out = d.transcripts / "to-english"
    assert sorted(p.name for p in out.iterdir()) == [
        "punctuations.en.srt", "punctuations.en.txt", "punctuations.en.vtt",
        "punctuations.json", "punctuations.srt", "punctuations.txt", "punctuations.vtt"]
    french = normalise((out / "punctuations.txt").read_text())
    english = normalise((out / "punctuations.en.txt").read_text())
    assert "lavion" in french  # "l'avion": apostrophes are dropped
    assert {"plane", "airplane"} & set(english) and "lavion" not in english, english
    doc = json.loads((out / "punctuations.json").read_text())
    assert "lavion" in normalise(doc["text"])
    assert doc["translation"]["language"] == "en"
    assert {"plane", "airplane"} & set(normalise(doc["translation"]["text"]))
    assert doc["translation"]["segments"][0]["end"] > 0
    assert "translating punctuations.mp3 into English" in d.log()
