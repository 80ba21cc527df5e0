"""install-service / uninstall-service through the real `voxtrald` command line."""

from __future__ import annotations

import os
import plistlib
import stat
import sys
from pathlib import Path

import pytest

from voxtrald import cli
from voxtrald.service import _common, _systemd

LINUX_ONLY = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux host")


@pytest.fixture(autouse=True)
def private_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every default location (units, autostart, LaunchAgents) inside tmp."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("APPDATA", str(home / "AppData" / "Roaming"))
    monkeypatch.delenv("VOXTRAL_SERVICE_DIR", raising=False)
    return home


def voxtrald(*args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


@pytest.mark.parametrize(
    ("platform", "expected"),
    [
        ("linux", ["voxtrald.service", "Type=notify", "WatchdogSec=", "voxtral-tray.desktop",
                   "WantedBy=graphical-session.target",
                   "would run: systemctl --user enable voxtrald.service voxtral-tray.service"]),
        ("macos", ["io.github.debrockb.voxtrald.plist", "<key>KeepAlive</key>",
                   "Library/Logs/Voxtral/voxtrald.log",
                   "would run: launchctl bootstrap gui/"]),
        ("windows", ["Voxtral.cmd", "Startup", "-m voxtrald.cli run", "start \"\" /b"]),
    ],
)
def test_dry_run_prints_files_and_commands_and_writes_nothing(
    platform: str, expected: list[str], private_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = voxtrald("install-service", "--dry-run", "--platform", platform,
                              capsys=capsys)
    assert code == 0, err
    for text in expected:
        assert text in out
    assert tree(private_home) == {}


def test_dry_run_uses_absolute_paths_of_this_install(
    capsys: pytest.CaptureFixture[str],
) -> None:
    exes = _common.find_executables()
    assert Path(exes.daemon[0]).is_absolute()
    code, out, _ = voxtrald("install-service", "--dry-run", "--platform", "linux", capsys=capsys)
    assert code == 0
    exec_line = next(line for line in out.splitlines() if "ExecStart=" in line and " run" in line)
    program = exec_line.split("=", 1)[1].split()[0]
    assert Path(program).is_absolute() and os.access(program, os.X_OK)


def test_install_writes_to_the_usual_places_and_twice_changes_nothing(
    private_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = voxtrald("install-service", "--no-enable", capsys=capsys)
    assert code == 0, err
    units = private_home / ".config" / "systemd" / "user"
    first = tree(private_home)
    assert set(first) == {
        ".config/systemd/user/voxtrald.service",
        ".config/systemd/user/voxtral-tray.service",
        ".config/autostart/voxtral-tray.desktop",
    }
    assert out.count("wrote ") == 3
    mtime = (units / "voxtrald.service").stat().st_mtime_ns

    code, out, err = voxtrald("install-service", "--no-enable", capsys=capsys)
    assert code == 0, err
    assert "wrote " not in out and "nothing rewritten" in out
    assert tree(private_home) == first
    assert (units / "voxtrald.service").stat().st_mtime_ns == mtime


def test_install_replaces_a_stale_file(private_home: Path, capsys: pytest.CaptureFixture[str]
                                       ) -> None:
    target = private_home / "svc"
    assert voxtrald("install-service", "--no-enable", "--target-dir", str(target),
                    capsys=capsys)[0] == 0
    unit = target / "voxtrald.service"
    good = unit.read_text()
    unit.write_text("[Service]\nExecStart=/old/voxtrald run\n")
    code, out, _ = voxtrald("install-service", "--no-enable", "--target-dir", str(target),
                            capsys=capsys)
    assert code == 0
    assert f"wrote {unit}" in out
    assert unit.read_text() == good
    assert stat.S_IMODE(unit.stat().st_mode) == 0o644


def test_target_dir_from_the_environment(
    private_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    target = private_home / "from-env"
    monkeypatch.setenv("VOXTRAL_SERVICE_DIR", str(target))
    assert voxtrald("install-service", "--no-enable", "--platform", "macos",
                    capsys=capsys)[0] == 0
    daemon = plistlib.loads((target / "io.github.debrockb.voxtrald.plist").read_bytes())
    assert daemon["ProgramArguments"][-1] == "run"
    assert daemon["KeepAlive"] == {"SuccessfulExit": False}


def test_uninstall_removes_and_a_second_uninstall_is_told_nothing_is_there(
    private_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert voxtrald("install-service", "--no-enable", capsys=capsys)[0] == 0
    code, out, err = voxtrald("uninstall-service", "--no-enable", capsys=capsys)
    assert code == 0, err
    assert out.count("removed ") == 3
    assert tree(private_home) == {}

    code, out, err = voxtrald("uninstall-service", "--no-enable", capsys=capsys)
    assert code == 0
    assert "not installed as a service" in out and "nothing to do" in out


def test_uninstall_dry_run_removes_nothing(
    private_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert voxtrald("install-service", "--no-enable", capsys=capsys)[0] == 0
    before = tree(private_home)
    code, out, _ = voxtrald("uninstall-service", "--dry-run", capsys=capsys)
    assert code == 0
    assert "would remove" in out and "would run: systemctl --user disable --now" in out
    assert tree(private_home) == before


def test_a_folder_that_cannot_be_written_leaves_nothing_half_written(
    private_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The units' folder is fine; the autostart folder is a file in the way.
    config = private_home / ".config"
    config.mkdir()
    (config / "autostart").write_text("not a folder")
    code, out, err = voxtrald("install-service", "--no-enable", capsys=capsys)
    assert code == 1
    assert "cannot write the tray autostart entry" in err and str(config / "autostart") in err
    assert "Traceback" not in err
    assert tree(private_home) == {".config/autostart": b"not a folder"}


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0,
                    reason="root writes through permission bits")
def test_a_read_only_unit_folder_is_refused(
    private_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = private_home / "ro"
    target.mkdir()
    target.chmod(0o500)
    try:
        code, _, err = voxtrald("install-service", "--no-enable", "--target-dir", str(target),
                                capsys=capsys)
    finally:
        target.chmod(0o700)
    assert code == 1 and "Permission denied" in err
    assert list(target.iterdir()) == []


def test_a_failed_rename_puts_back_what_was_there(
    private_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    target = private_home / "svc"
    target.mkdir()
    old_unit = target / "voxtrald.service"
    old_unit.write_text("old daemon unit\n")
    real_replace = os.replace
    calls = {"n": 0}

    def flaky_replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(_common.os, "replace", flaky_replace)
    code, _, err = voxtrald("install-service", "--no-enable", "--target-dir", str(target),
                            capsys=capsys)
    assert code == 1 and "No space left on device" in err
    assert tree(target) == {"voxtrald.service": b"old daemon unit\n"}


@LINUX_ONLY
def test_no_systemd_on_path_is_a_clear_error(
    private_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = private_home / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    code, _, err = voxtrald("install-service", capsys=capsys)
    assert code == 1
    assert "systemd not found" in err and "--no-enable" in err
    assert tree(private_home) == {}


@LINUX_ONLY
@pytest.mark.skipif(Path("/run/systemd/system").is_dir(), reason="systemd runs on this machine")
def test_systemd_not_running_is_a_clear_error(
    private_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = voxtrald("install-service", capsys=capsys)
    assert code == 1
    assert "systemd is not running" in err
    assert tree(private_home) == {}


FAKE_SYSTEMCTL = """\
#!/bin/sh
# Records every call; keeps enabled/active state as files, like a tiny manager.
echo "$*" >> "$FAKE_SYSTEMD/calls"
[ "$1" = "--user" ] || exit 64
shift
case "$1" in
  show) [ -e "$FAKE_SYSTEMD/no-bus" ] && { echo "Failed to connect to bus" >&2; exit 1; }
        echo "Version=255"; exit 0 ;;
  --quiet) shift; case "$1" in
      is-enabled) [ -e "$FAKE_SYSTEMD/enabled-$2" ] ;;
      is-active) [ -e "$FAKE_SYSTEMD/active-$2" ] ;;
    esac; exit $? ;;
  enable) shift; for u in "$@"; do touch "$FAKE_SYSTEMD/enabled-$u"; done ;;
  start|restart) touch "$FAKE_SYSTEMD/active-$2" ;;
  disable) shift; shift; for u in "$@"; do rm -f "$FAKE_SYSTEMD/enabled-$u" \
                                               "$FAKE_SYSTEMD/active-$u"; done ;;
  daemon-reload) ;;
  *) exit 64 ;;
esac
"""


@pytest.fixture
def fake_systemd(
    private_home: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Path:
    """A systemctl that answers like a user manager, for the enable/start sequence."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    script = bindir / "systemctl"
    script.write_text(FAKE_SYSTEMCTL)
    script.chmod(0o755)
    state = tmp_path / "systemd-state"
    state.mkdir()
    booted = tmp_path / "run-systemd-system"
    booted.mkdir()
    monkeypatch.setenv("FAKE_SYSTEMD", str(state))
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}/usr/bin{os.pathsep}/bin")
    monkeypatch.setattr(_systemd, "BOOTED_MARKER", booted)
    return state


def calls(state: Path) -> list[str]:
    path = state / "calls"
    lines = path.read_text().splitlines() if path.exists() else []
    path.unlink(missing_ok=True)
    return [line for line in lines if "--quiet" not in line and " show " not in line]


@LINUX_ONLY
def test_enable_sequence_then_second_run_does_nothing(
    fake_systemd: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = voxtrald("install-service", capsys=capsys)
    assert code == 0, err
    assert calls(fake_systemd) == [
        "--user daemon-reload",
        "--user enable voxtrald.service voxtral-tray.service",
        "--user start voxtrald.service",
    ]
    assert "tray starts with your next graphical login" in out
    assert "journalctl --user -u voxtrald" in out

    code, out, err = voxtrald("install-service", capsys=capsys)
    assert code == 0, err
    assert calls(fake_systemd) == []
    assert "nothing rewritten" in out

    code, out, err = voxtrald("uninstall-service", capsys=capsys)
    assert code == 0, err
    assert calls(fake_systemd) == [
        "--user disable --now voxtrald.service voxtral-tray.service",
        "--user daemon-reload",
    ]


@LINUX_ONLY
def test_a_changed_unit_restarts_the_running_daemon(
    fake_systemd: Path, private_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert voxtrald("install-service", capsys=capsys)[0] == 0
    calls(fake_systemd)
    unit = private_home / ".config" / "systemd" / "user" / "voxtrald.service"
    unit.write_text(unit.read_text().replace("RestartSec=5s", "RestartSec=1s"))
    assert voxtrald("install-service", capsys=capsys)[0] == 0
    assert calls(fake_systemd) == ["--user daemon-reload", "--user restart voxtrald.service"]


@LINUX_ONLY
def test_no_user_bus_is_a_clear_error_and_writes_nothing(
    fake_systemd: Path, private_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (fake_systemd / "no-bus").touch()
    code, _, err = voxtrald("install-service", capsys=capsys)
    assert code == 1
    assert "cannot reach your systemd user manager" in err and "enable-linger" in err
    assert tree(private_home) == {}


def test_enabling_another_platform_is_refused(
    private_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = "windows" if not sys.platform.startswith("win") else "linux"
    code, _, err = voxtrald("install-service", "--platform", other, capsys=capsys)
    assert code == 1
    assert f"cannot enable {other} services" in err and "--dry-run" in err
    assert tree(private_home) == {}


def test_no_tray_installs_the_daemon_only(
    private_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = private_home / "svc"
    assert voxtrald("install-service", "--no-enable", "--no-tray", "--target-dir", str(target),
                    capsys=capsys)[0] == 0
    assert sorted(tree(target)) == ["voxtrald.service"]


def test_executables_fall_back_to_the_interpreter(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    python = str(tmp_path / "python3")
    exes = _common.find_executables(python=python)
    assert exes.daemon == (python, "-m", "voxtrald.cli")
    assert exes.tray[:2] == (python, "-c")


USER_UNIT = "[Unit]\nDescription=my own voxtrald\n\n[Service]\nExecStart=/opt/mine/voxtrald\n"


def test_uninstall_leaves_a_unit_it_did_not_write(
    private_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    units = private_home / ".config" / "systemd" / "user"
    units.mkdir(parents=True)
    (units / "voxtrald.service").write_text(USER_UNIT)
    before = tree(private_home)
    for extra in ((), ("--dry-run",)):
        code, out, err = voxtrald("uninstall-service", "--no-enable", *extra, capsys=capsys)
        assert code == 1
        assert str(units / "voxtrald.service") in err
        assert "not written by 'voxtrald install-service'" in err and "--force" in err
        assert "removed" not in out
        assert tree(private_home) == before


def test_one_foreign_file_means_nothing_is_removed_unless_forced(
    private_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert voxtrald("install-service", "--no-enable", capsys=capsys)[0] == 0
    desktop = private_home / ".config" / "autostart" / "voxtral-tray.desktop"
    desktop.write_text("[Desktop Entry]\nName=My tray\n")
    before = tree(private_home)
    code, _, err = voxtrald("uninstall-service", "--no-enable", capsys=capsys)
    assert code == 1 and str(desktop) in err
    assert tree(private_home) == before

    code, out, err = voxtrald("uninstall-service", "--no-enable", "--force", capsys=capsys)
    assert code == 0, err
    assert out.count("removed ") == 3
    assert tree(private_home) == {}


@LINUX_ONLY
def test_a_foreign_unit_is_not_even_disabled(
    fake_systemd: Path, private_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    units = private_home / ".config" / "systemd" / "user"
    units.mkdir(parents=True)
    (units / "voxtrald.service").write_text(USER_UNIT)
    code, _, err = voxtrald("uninstall-service", capsys=capsys)
    assert code == 1 and "--force" in err
    assert calls(fake_systemd) == []
    assert (units / "voxtrald.service").read_text() == USER_UNIT


@pytest.mark.parametrize("platform", ["macos", "windows"])
def test_uninstall_recognises_its_own_files_on_every_platform(
    platform: str, private_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = private_home / "svc"
    args = ("--no-enable", "--platform", platform, "--target-dir", str(target))
    assert voxtrald("install-service", *args, capsys=capsys)[0] == 0
    code, out, err = voxtrald("uninstall-service", *args, capsys=capsys)
    assert code == 0, err
    assert "removed " in out and tree(target) == {}
