"""One socket rule for the daemon, the CLI and the tray: flag > VOXTRAL_SOCKET > config > default.

Each process reaches the rule its own way (the daemon through its loaded config,
the CLI reading the config file only for its socket, the tray with --socket laid
over its config), so each way is checked over every combination of the four
sources. The real processes meeting on a config-only socket are in test_tray_e2e.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import pytest

from tray import app as tray_app
from voxtrald import _platform, config, paths
from voxtrald.client import calls

SOURCES = ("flag", "env", "config")
COMBINATIONS = [
    dict(zip(SOURCES, present, strict=True))
    for present in itertools.product((False, True), repeat=len(SOURCES))
]


def expected(present: dict[str, bool], where: dict[str, Path]) -> Path:
    for source in SOURCES:  # the order of SOURCES is the precedence
        if present[source]:
            return where[source]
    return paths.default_socket()


@pytest.fixture
def where(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """A distinct socket per source, and no VOXTRAL_SOCKET or config file unless a test sets one."""
    monkeypatch.delenv("VOXTRAL_SOCKET", raising=False)
    monkeypatch.setenv("VOXTRAL_CONFIG", str(tmp_path / "config.toml"))
    (tmp_path / "config.toml").write_text("")
    return {source: tmp_path / f"{source}.sock" for source in SOURCES}


def arrange(present: dict[str, bool], where: dict[str, Path], tmp_path: Path,
            monkeypatch: pytest.MonkeyPatch) -> str | None:
    """Put each present source in place; returns the --socket flag's value."""
    if present["env"]:
        monkeypatch.setenv("VOXTRAL_SOCKET", str(where["env"]))
    if present["config"]:
        (tmp_path / "config.toml").write_text(f'[api]\nsocket = "{where["config"]}"\n')
    return str(where["flag"]) if present["flag"] else None


def daemon_way(flag: str | None) -> Path:
    # As `voxtrald run` does: the flag arrives as a command-line override.
    return config.load(None, {"api.socket": flag}).socket_path()


def tray_way(flag: str | None) -> Path:
    argv = ["--socket", flag] if flag else []
    return tray_app.load_settings(tray_app.parse_args(argv)).socket_path()


WAYS: dict[str, Callable[[str | None], Path]] = {
    "resolve_socket": lambda flag: paths.resolve_socket(
        flag, config.load().api.socket),
    "daemon": daemon_way,
    "cli": calls.socket_for,
    "tray": tray_way,
}


@pytest.mark.parametrize("way", sorted(WAYS))
@pytest.mark.parametrize("present", COMBINATIONS, ids=lambda p: "+".join(
    s for s in SOURCES if p[s]) or "none")
def test_precedence(way: str, present: dict[str, bool], where: dict[str, Path],
                    tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    flag = arrange(present, where, tmp_path, monkeypatch)
    assert WAYS[way](flag) == expected(present, where)


def test_the_default_is_the_platform_runtime_folder(
        where: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    socket = paths.resolve_socket()
    assert socket.name == paths.SOCKET_NAME
    assert socket.parent.name.startswith(paths.APP)
    if _platform.NAME in ("linux", "posix"):
        assert socket == runtime / "voxtral" / "voxtrald.sock"
        monkeypatch.delenv("XDG_RUNTIME_DIR")
        assert paths.resolve_socket().parent.name == f"voxtral-{_platform.current_uid()}"


def test_empty_values_do_not_count(where: dict[str, Path],
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOXTRAL_SOCKET", "")
    assert paths.resolve_socket("", "") == paths.default_socket()


def test_a_tilde_is_the_home_folder(where: dict[str, Path]) -> None:
    assert paths.resolve_socket("~/v.sock") == Path.home() / "v.sock"


def test_a_broken_config_file_leaves_the_cli_the_other_sources(
        where: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "config.toml").write_text("[api]\nsocket = 5\n")
    assert calls.socket_for(None) == paths.default_socket()
    monkeypatch.setenv("VOXTRAL_SOCKET", str(where["env"]))
    assert calls.socket_for(None) == where["env"]
    assert calls.socket_for(str(where["flag"])) == where["flag"]


def test_the_tray_refuses_a_broken_config_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[api]\nsocket = 5\n")
    assert tray_app.main(["--config", str(bad), "--socket", str(tmp_path / "s.sock")]) == 2
