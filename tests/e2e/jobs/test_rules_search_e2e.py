"""Folder rules and search through the real daemon with the real default model.

One daemon, global `language = "en"`: French in a folder whose rules say
French, the English-then-German reading in a folder whose rules leave the
language to detection, a French greeting forced to German by its folder, and
JFK at the top. Then search, through the API and the CLI, in all three
languages, with the times checked against the words' own timings.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import DATA, DaemonProc

from voxtrald.jobs.rules import RULES_NAME

pytestmark = pytest.mark.e2e

AUDIO = Path(__file__).resolve().parents[2].parent.parent / "shared" / "audio"
needs_audio = pytest.mark.skipif(not (AUDIO / "refs.json").exists(),
                                 reason=f"the shared recordings are not at {AUDIO}")


def cli(d: DaemonProc, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "voxtrald", *args], env=d.env,
                          capture_output=True, text=True, timeout=60, check=False)


def search(d: DaemonProc, query: str) -> list[dict[str, Any]]:
    from urllib.parse import quote

    status, doc = d.api("GET", f"/api/search?q={quote(query)}")
    assert status == 200, doc
    return list(doc["hits"])


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory, models_dir: Path) -> Any:
    root = tmp_path_factory.mktemp("d")
    d = DaemonProc(root, {"engine": {"model": "default", "language": "en"}}, None)
    d.inbox.mkdir(parents=True)
    for folder, rules in (("fr", 'language = "fr"\n'), ("auto", 'language = ""\n'),
                          ("de", 'language = "de"\nformats = ["txt", "json"]\n')):
        (d.inbox / folder).mkdir()
        (d.inbox / folder / RULES_NAME).write_text(rules)
    d.start()
    try:
        for source, target in (("punctuations.mp3", "fr/punctuations.mp3"),
                               ("multilingual.mp3", "auto/multilingual.mp3"),
                               ("bonjour.wav", "de/bonjour.wav"), ("jfk.flac", "jfk.flac")):
            d.drop(AUDIO / source, target)
        d.wait_jobs(4, states=("done", "failed"), timeout=900)
        yield d
    finally:
        d.stop(timeout=30)


def by_file(d: DaemonProc) -> dict[str, dict[str, Any]]:
    return {j["file"]: j for j in d.jobs()}


@needs_audio
def test_a_folder_rule_forces_its_language_over_the_global_one(daemon: DaemonProc) -> None:
    jobs = by_file(daemon)
    assert jobs["bonjour.wav"]["state"] == "done" and jobs["bonjour.wav"]["language"] == "de"
    assert jobs["jfk.flac"]["language"] == "en"
    assert jobs["punctuations.mp3"]["language"] == "fr"
    # The folder's formats: only txt and json beside the forced-German greeting.
    assert sorted(p.name for p in (daemon.transcripts / "de").iterdir()) == [
        "bonjour.json", "bonjour.txt"]
    doc = json.loads((daemon.transcripts / "de" / "bonjour.json").read_text())
    assert doc["language"] == "de"


@needs_audio
def test_explain_says_where_each_setting_comes_from(daemon: DaemonProc) -> None:
    done = cli(daemon, "explain", str(daemon.inbox / "de" / "next.wav"))
    assert done.returncode == 0, done.stderr
    rules = str(daemon.inbox / "de" / RULES_NAME)
    language = next(line for line in done.stdout.splitlines() if "language" in line)
    assert "'de'" in language and rules in language
    top = json.loads(cli(daemon, "explain", "--json", str(daemon.inbox / "x.wav")).stdout)
    assert top["settings"]["language"]["value"] == "en"
    assert "global config" in top["settings"]["language"]["from"]
    outside = cli(daemon, "explain", "/etc/passwd")
    assert outside.returncode == 1 and "not in the inbox" in outside.stderr


def word_times(d: DaemonProc, rel_json: str, word: str) -> list[float]:
    doc = json.loads((d.transcripts / rel_json).read_text())
    return [w["start"] for s in doc["segments"] for w in s["words"]
            if word in w["word"].lower()]


@needs_audio
@pytest.mark.parametrize(("query", "file", "rel_json", "word"), [
    ('"est-ce que l\'avion"', "punctuations.mp3", "fr/punctuations.json", "avion"),
    ("Genehmigung", "multilingual.mp3", "auto/multilingual.json", "genehmigung"),
    ('"ask not what your country"', "jfk.flac", "jfk.json", "ask"),
    ("permiss*", "multilingual.mp3", "auto/multilingual.json", "permission"),
])
def test_search_finds_a_phrase_in_each_language_at_the_right_time(
        daemon: DaemonProc, query: str, file: str, rel_json: str, word: str) -> None:
    hits = search(daemon, query)
    assert hits and hits[0]["file"] == file, hits
    starts = word_times(daemon, rel_json, word)
    assert any(hits[0]["start"] - 0.5 <= t <= hits[0]["end"] for t in starts), (hits, starts)
    assert word in hits[0]["text"].lower()


@needs_audio
def test_the_cli_prints_file_time_and_sentence_and_refuses_a_hostile_query(
        daemon: DaemonProc) -> None:
    done = cli(daemon, "search", "country")
    assert done.returncode == 0 and "jfk.flac" in done.stdout and "country" in done.stdout
    as_json = json.loads(cli(daemon, "search", "--json", "country").stdout)
    assert as_json["hits"][0]["file"] == "jfk.flac"
    for query in ("*** ((", "x" * 10_000):
        status, doc = daemon.api("GET", "/api/search?q=" + query.replace(" ", "%20"))
        assert status == 400 and doc["error"]["code"] == "bad_query"
    assert search(daemon, "Ωμέγα ἀρχή") == []  # a script nobody spoke: no hits, no error


@needs_audio
def test_a_deleted_transcript_leaves_the_results_and_reindex_rebuilds(
        daemon: DaemonProc) -> None:
    for fmt in ("txt", "srt", "vtt", "json"):
        (daemon.transcripts / f"jfk.{fmt}").unlink()
    assert search(daemon, "country") == []
    done = cli(daemon, "reindex", "--json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["transcripts"] == 3 and len(doc["left_out"]) == 1
    assert search(daemon, "genehmigung")[0]["file"] == "multilingual.mp3"
    assert search(daemon, "country") == []


def test_a_broken_rules_file_holds_its_folder_until_fixed(daemon_factory) -> None:  # type: ignore[no-untyped-def]
    d: DaemonProc = daemon_factory()
    held = d.inbox / "held"
    held.mkdir(parents=True)
    rules = held / RULES_NAME
    rules.write_bytes(b"language = \x00\x01binary")
    d.drop(DATA / "fox.wav", "held/fox.wav")
    d.drop(DATA / "story.flac", "story.flac")
    d.wait_for(lambda: any(j["file"] == "story.flac" and j["state"] == "done"
                           for j in d.jobs()), 120, "the file outside the held folder")
    health = d.wait_for(lambda: (h := d.api("GET", "/api/health")[1])["problems"] and h,
                        30, "health to say the folder is held")
    assert not health["ok"] and "is not text" in health["problems"][0]
    assert str(held) in health["problems"][0]
    fox = next(j for j in d.jobs() if j["file"] == "fox.wav")
    assert fox["state"] == "queued" and fox["attempts"] == 0
    status = cli(d, "status")
    assert "Held:" in status.stdout and "is not text" in status.stdout
    assert "wait until it is fixed" in d.log()
    rules.write_text('language = "en"\n')
    d.wait_for(lambda: next(j for j in d.jobs() if j["file"] == "fox.wav")["state"] == "done",
               120, "the held file to go on once fixed")
    assert d.api("GET", "/api/health")[1]["ok"]
    assert "is fixed" in d.log()
