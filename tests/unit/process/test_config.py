"""Config: defaults for everything, one clear line for any mistake."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from voxtrald import config


def load_text(tmp_path: Path, text: str, **overrides: object) -> config.Config:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return config.load(path, overrides or None)


def test_no_file_gives_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VOXTRAL_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    cfg = config.load()
    assert cfg.source is None
    assert cfg.engine.model == "default" and cfg.engine.compute_type == "int8"
    assert cfg.inbox.settle_seconds == 2.0 and cfg.jobs.max_attempts == 3
    assert cfg.memory.warning_percent == 80 and cfg.memory.critical_percent == 90
    assert cfg.paths.processed == cfg.paths.inbox.parent / "Processed"


def test_file_values_and_flag_overrides(tmp_path: Path) -> None:
    cfg = load_text(
        tmp_path,
        '[paths]\ninbox = "~/in"\n[engine]\nbeam_size = 2\nthreads = 4\n'
        '[outputs]\nformats = ["txt", "json"]\n',
        **{"engine.beam_size": 3, "paths.transcripts": tmp_path / "out"},
    )
    assert cfg.paths.inbox == Path("~/in").expanduser()
    assert cfg.engine.beam_size == 3 and cfg.engine.threads == 4
    assert cfg.outputs.formats == ["txt", "json"]
    assert cfg.paths.transcripts == tmp_path / "out"
    # Processed/ and Failed/ follow the inbox unless named.
    assert cfg.paths.processed == Path("~/Processed").expanduser()
    assert cfg.paths.failed == Path("~/Failed").expanduser()


def test_an_int_where_a_number_is_expected_is_fine(tmp_path: Path) -> None:
    assert load_text(tmp_path, "[inbox]\nsettle_seconds = 3\n").inbox.settle_seconds == 3.0


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[engine]\nbeam_sise = 5\n", "engine.beam_sise"),
        ("[engin]\nbeam_size = 5\n", "[engin]"),
        ("[engine]\nbeam_size = \"five\"\n", "engine.beam_size"),
        ("[engine]\nbeam_size = 0\n", "engine.beam_size"),
        ("[jobs]\nafter = \"shred\"\n", "move, keep, delete"),
        ("[outputs]\nformats = [\"doc\"]\n", "outputs.formats"),
        ("[inbox]\nrecursive = 1\n", "inbox.recursive"),
        ("[memory]\nwarning_percent = 95\ncritical_percent = 90\n", "memory.critical_percent"),
        ("[updates]\nrepo = \"../x\"\n", "updates.repo"),
        ("engine = 3\n", "'engine' must be a table"),
        ("[engine\n", "not valid TOML"),
    ],
)
def test_mistakes_name_the_key(tmp_path: Path, text: str, needle: str) -> None:
    with pytest.raises(config.ConfigError) as err:
        load_text(tmp_path, text)
    message = str(err.value)
    assert needle in message
    assert "\n" not in message


def test_a_named_file_must_exist(tmp_path: Path) -> None:
    with pytest.raises(config.ConfigError, match="cannot read config file"):
        config.load(tmp_path / "missing.toml")


def test_bad_flag_value_is_reported_as_a_key(tmp_path: Path) -> None:
    with pytest.raises(config.ConfigError, match="engine.model"):
        load_text(tmp_path, "", **{"engine.model": "  "})


def test_relative_folders_become_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    cfg = load_text(tmp_path, "", **{"paths.inbox": "rel/Inbox"})
    assert cfg.paths.inbox == tmp_path / "rel" / "Inbox"
    assert cfg.paths.failed == tmp_path / "rel" / "Failed"


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[api]\nrequest_timeout_seconds = inf", "request_timeout_seconds': expected a finite"),
        ("[inbox]\nsettle_seconds = inf", "'inbox.settle_seconds': expected a finite"),
        ("[inbox]\nsettle_seconds = nan", "'inbox.settle_seconds': expected a finite"),
        ("[jobs]\nretry_backoff_seconds = 1e308", "seconds from 0 to 86400"),
        ("[engine]\nidle_unload_seconds = 1e12", "'engine.idle_unload_seconds'"),
        ("[updates]\ncheck_interval_hours = 1e9", "hours; 0 turns checks off"),
        ('[paths]\ninbox = "/tmp/in\\u0000box"', "'paths.inbox': contains a NUL"),
        ('[api]\nsocket = "/run/x\\u0000.sock"', "'api.socket': contains a NUL"),
        ('[outputs]\nformats = ["txt", "\\u0000"]', "'outputs.formats': contains a NUL"),
    ],
)
def test_values_that_would_break_the_daemon_stop_start_up_naming_the_key(
    tmp_path: Path, toml: str, message: str
) -> None:
    path = tmp_path / "c.toml"
    path.write_text(toml)
    with pytest.raises(config.ConfigError, match=re.escape(message)):
        config.load(path)


@pytest.mark.parametrize("key", ["processed", "failed", "transcripts", "state_dir"])
def test_folders_the_daemon_fills_must_be_outside_the_inbox(tmp_path: Path, key: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(f'[paths]\ninbox = "{tmp_path}/In"\n{key} = "{tmp_path}/In/Out"\n')
    with pytest.raises(config.ConfigError, match=f"'paths.{key}'.*inside the inbox"):
        config.load(path)
