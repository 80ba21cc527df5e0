"""Folder rules: nearest wins key by key, the config's checks, broken or foreign files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from voxtrald import config
from voxtrald.jobs import explain, rules
from voxtrald.jobs.holds import FolderHolds


@pytest.fixture
def cfg(tmp_path: Path) -> config.Config:
    cfg_file = tmp_path / "config.toml"
    cfg_file.write_text('[engine]\nlanguage = "en"\nhotwords = "Voxtral"\n')
    cfg = config.load(cfg_file, {"paths.inbox": tmp_path / "Inbox",
                                 "paths.state_dir": tmp_path / "state",
                                 "paths.transcripts": tmp_path / "Transcripts"})
    cfg.paths.inbox.mkdir()
    return cfg


def test_the_nearest_rules_file_wins_key_by_key_over_the_global_config(
        cfg: config.Config) -> None:
    inbox = cfg.paths.inbox
    (inbox / "de").mkdir()
    (inbox / "de" / "talks").mkdir()
    (inbox / rules.RULES_NAME).write_text('formats = ["txt", "json"]\n')
    (inbox / "de" / rules.RULES_NAME).write_text('language = "de"\nhotwords = "Genehmigung"\n')
    (inbox / "de" / "talks" / rules.RULES_NAME).write_text('hotwords = "Vortrag"\n')
    got = rules.resolve(inbox / "de" / "talks" / "a.mp3", cfg)
    assert got.held is None
    assert got.value("language") == "de"
    assert got.values["language"].origin == str(inbox / "de" / rules.RULES_NAME)
    assert got.value("hotwords") == "Vortrag"
    assert got.value("formats") == ["txt", "json"]
    assert got.value("initial_prompt") == "" and got.values["initial_prompt"].origin == "default"
    top = rules.resolve(inbox / "b.mp3", cfg)
    assert top.value("language") == "en" and "global config" in top.values["language"].origin


@pytest.mark.parametrize(("body", "words"), [
    (b'languag = "de"\n', "unknown key 'languag'"),
    (b"language = 3\n", "key 'language': expected a string"),
    (b'formats = ["doc"]\n', "key 'formats': ['doc'] is not allowed"),
    (b'language = "German"\n', "key 'language': 'German' is not allowed"),
    (b"\x00\x01\x02binary", "is not text"),
    (b"language = \n", "is not valid TOML"),
    (b"\xff\xfe", "is not UTF-8"),
    (b"# " + b"x" * (rules.MAX_BYTES + 10), "larger than 64 KiB"),
])
def test_a_broken_rules_file_holds_its_folder_and_says_which_file_and_key(
        cfg: config.Config, body: bytes, words: str) -> None:
    folder = cfg.paths.inbox / "broken"
    folder.mkdir()
    (folder / rules.RULES_NAME).write_bytes(body)
    got = rules.resolve(folder / "sub" / "a.mp3", cfg)
    assert got.held is not None and words in got.held
    assert str(folder / rules.RULES_NAME) in got.held
    assert rules.resolve(cfg.paths.inbox / "elsewhere.mp3", cfg).held is None


def test_a_link_or_another_users_rules_file_is_ignored_with_a_reason(
        cfg: config.Config, tmp_path: Path) -> None:
    outside = tmp_path / "outside.toml"
    outside.write_text('language = "fr"\n')
    linked = cfg.paths.inbox / "linked"
    linked.mkdir()
    (linked / rules.RULES_NAME).symlink_to(outside)
    got = rules.resolve(linked / "a.mp3", cfg)
    assert got.held is None and got.value("language") == "en"
    assert "is a link; ignored" in got.ignored[0]
    mine = cfg.paths.inbox / "mine"
    mine.mkdir()
    (mine / rules.RULES_NAME).write_text('language = "fr"\n')
    foreign = rules.resolve(mine / "a.mp3", cfg, uid=os.getuid() + 1)
    assert foreign.value("language") == "en"
    assert "belongs to another user" in foreign.ignored[0]


def test_folders_linked_into_a_loop_do_not_loop_the_lookup(cfg: config.Config) -> None:
    loop = cfg.paths.inbox / "loop"
    loop.mkdir()
    (loop / "again").symlink_to(loop)
    (loop / rules.RULES_NAME).write_text('language = "de"\n')
    deep = loop.joinpath(*["again"] * 200, "a.mp3")
    got = rules.resolve(deep, cfg)
    assert got.value("language") == "de"
    assert len(rules.rules_files(deep, cfg.paths.inbox)) == rules.MAX_DEPTH + 1


def test_a_file_outside_the_inbox_gets_the_global_settings_only(
        cfg: config.Config, tmp_path: Path) -> None:
    (tmp_path / rules.RULES_NAME).write_text('language = "de"\n')
    assert rules.resolve(tmp_path / "a.mp3", cfg).value("language") == "en"
    with pytest.raises(explain.NotInInbox):
        explain.explain(tmp_path / "a.mp3", cfg)


def test_explain_names_where_each_setting_and_the_sidecar_came_from(
        cfg: config.Config) -> None:
    folder = cfg.paths.inbox / "fr"
    folder.mkdir()
    (folder / rules.RULES_NAME).write_text('language = "fr"\n')
    (folder / "talk.vocab.txt").write_text("Marseille\n")
    doc = explain.explain(folder / "talk.mp3", cfg)
    assert doc["settings"]["language"] == {"value": "fr",
                                           "from": str(folder / rules.RULES_NAME)}
    assert doc["settings"]["hotwords"]["value"] == "Voxtral, Marseille"
    assert "sidecar" in doc["settings"]["hotwords"]["from"]
    text = explain.render(doc)
    assert "language" in text and str(folder / rules.RULES_NAME) in text


def test_a_hold_shows_until_the_file_is_fixed(cfg: config.Config) -> None:
    folder = cfg.paths.inbox / "held"
    folder.mkdir()
    path = folder / rules.RULES_NAME
    path.write_text("nope = 1\n")
    holds = FolderHolds()
    got = rules.resolve(folder / "a.mp3", cfg)
    assert got.held and got.held_by == path
    holds.hold(path, got.held, "a.mp3")
    assert holds.active()[0]["folder"] == str(folder)
    assert "unknown key 'nope'" in holds.problems()[0]
    path.write_text('language = "de"\n')
    assert holds.active() == [] and holds.problems() == []


def test_a_path_that_climbs_out_of_the_inbox_is_not_in_it(cfg: config.Config,
                                                           tmp_path: Path) -> None:
    (tmp_path / rules.RULES_NAME).write_text('language = "de"\n')
    climbing = cfg.paths.inbox / ".." / "a.mp3"
    assert rules.rules_files(climbing, cfg.paths.inbox) == []
    with pytest.raises(explain.NotInInbox):
        explain.explain(climbing, cfg)


def test_a_folder_names_its_languages_and_speakers(cfg: config.Config) -> None:
    folder = cfg.paths.inbox / "interviews"
    folder.mkdir()
    (folder / rules.RULES_NAME).write_text('languages = ["en", "fr"]\nspeakers = 2\n')
    got = rules.resolve(folder / "a.mp3", cfg)
    assert got.held is None
    assert got.value("languages") == ["en", "fr"] and got.value("speakers") == "2"
    assert rules.resolve(cfg.paths.inbox / "b.mp3", cfg).value("languages") == []
    (folder / rules.RULES_NAME).write_text('languages = ["French"]\n')
    held = rules.resolve(folder / "a.mp3", cfg)
    assert held.held is not None and "languages" in held.held
