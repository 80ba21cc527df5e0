"""The pure part of hooks: placeholders filled in, nothing else touched."""

from __future__ import annotations

from pathlib import Path

from voxtrald import config
from voxtrald.jobs.hooks import Hooks, expand


def test_placeholders_are_filled_and_other_braces_left_alone() -> None:
    argv = expand(["/bin/notify", "{json}", "--file={file}", "{unknown}", "{{json}}", "{id}"],
                  {"json": "/t/a b.json", "file": "a b.mp3", "id": "7"})
    assert argv == ("/bin/notify", "/t/a b.json", "--file=a b.mp3", "{unknown}",
                    "{/t/a b.json}", "7")


def test_a_missing_path_is_an_empty_argument_not_a_shifted_list() -> None:
    assert expand(["/bin/x", "{srt}", "{json}"], {"json": "j"}) == ("/bin/x", "", "j")


def test_no_hook_configured_starts_no_thread() -> None:
    hooks = Hooks(config.HooksConfig())
    hooks.job_ended("on_done", {"file": "a"}, {})
    assert hooks._thread is None


def test_the_config_refuses_a_hook_that_is_not_an_absolute_program(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[hooks]\non_done = ["notify", "{json}"]\n')
    try:
        config.load(path)
    except config.ConfigError as exc:
        assert "hooks.on_done" in str(exc) and "absolute path" in str(exc)
    else:
        raise AssertionError("a relative hook program was accepted")
