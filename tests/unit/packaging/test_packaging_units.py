"""The rendered service files are valid for the tools that read them."""

from __future__ import annotations

import configparser
import importlib.util
import os
import plistlib
import shutil
import subprocess
from pathlib import Path

import pytest

from voxtrald.service import _launchd, _systemd, _windows
from voxtrald.service._common import Executables, find_executables

ROOT = Path(__file__).resolve().parents[2].parent
PACKAGING = ROOT / "packaging"
SYSTEMD_ANALYZE = shutil.which("systemd-analyze")
DESKTOP_VALIDATE = shutil.which("desktop-file-validate")


def unit_sections(text: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None, comment_prefixes=("#",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(text)
    return parser


def verify_units(folder: Path, runtime: Path) -> tuple[int, str]:
    """`systemd-analyze verify --user`; works without systemd as init given a runtime dir."""
    assert SYSTEMD_ANALYZE
    runtime.mkdir(mode=0o700, exist_ok=True)
    env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime)}
    done = subprocess.run(
        [SYSTEMD_ANALYZE, "verify", "--user", *sorted(map(str, folder.glob("*.service")))],
        capture_output=True, text=True, env=env, timeout=60,
    )
    return done.returncode, done.stderr


@pytest.fixture
def installed_units(tmp_path: Path) -> Path:
    folder = tmp_path / "units"
    folder.mkdir()
    exes = find_executables()
    for item in _systemd.PLATFORM.files(exes, folder, tray=True):
        item.path.write_text(item.content)
    return folder


@pytest.mark.skipif(not SYSTEMD_ANALYZE, reason="systemd-analyze not installed")
@pytest.mark.e2e  # starts a process
def test_units_pass_systemd_analyze_verify(installed_units: Path, tmp_path: Path) -> None:
    code, stderr = verify_units(installed_units, tmp_path / "runtime")
    assert code == 0, stderr
    # Unknown keys and bad values are only warnings; none may mention our units.
    assert "voxtral" not in stderr, stderr


@pytest.mark.skipif(not SYSTEMD_ANALYZE, reason="systemd-analyze not installed")
def test_verify_catches_a_broken_unit(installed_units: Path, tmp_path: Path) -> None:
    unit = installed_units / "voxtrald.service"
    unit.write_text(unit.read_text().replace("Type=notify", "Type=notifyy"))
    _, stderr = verify_units(installed_units, tmp_path / "runtime")
    assert "voxtrald.service" in stderr and "notifyy" in stderr


@pytest.mark.skipif(not SYSTEMD_ANALYZE, reason="systemd-analyze not installed")
def test_exec_paths_with_spaces_and_percent_survive_quoting(tmp_path: Path) -> None:
    bindir = tmp_path / "my apps 100%" / "bin"
    bindir.mkdir(parents=True)
    for name in ("voxtrald", "voxtral-tray"):
        (bindir / name).write_text("#!/bin/sh\n")
        (bindir / name).chmod(0o755)
    exes = Executables(python="/usr/bin/python3", daemon=(str(bindir / "voxtrald"),),
                       tray=(str(bindir / "voxtral-tray"),))
    folder = tmp_path / "units"
    folder.mkdir()
    for item in _systemd.PLATFORM.files(exes, folder, tray=True):
        item.path.write_text(item.content)
    code, stderr = verify_units(folder, tmp_path / "runtime")
    # verify checks that ExecStart names an executable file: the quoting resolved.
    assert code == 0, stderr
    assert "100%%" in (folder / "voxtrald.service").read_text()


def test_daemon_unit_is_a_notify_service_with_watchdog(installed_units: Path) -> None:
    unit = unit_sections((installed_units / "voxtrald.service").read_text())
    service = unit["Service"]
    assert service["Type"] == "notify"
    assert service["NotifyAccess"] == "main"
    assert service["Restart"] == "on-failure"
    assert service["WatchdogSec"].endswith("s") and int(service["WatchdogSec"][:-1]) >= 10
    assert service["StandardError"] == "journal"
    program, *args = service["ExecStart"].split()
    assert os.path.isabs(program) and args[-1] == "run"
    assert unit["Install"]["WantedBy"] == "default.target"


def test_tray_unit_follows_the_graphical_session(installed_units: Path) -> None:
    unit = unit_sections((installed_units / "voxtral-tray.service").read_text())
    assert unit["Unit"]["PartOf"] == "graphical-session.target"
    assert "graphical-session.target" in unit["Unit"]["After"].split()
    assert unit["Install"]["WantedBy"] == "graphical-session.target"


@pytest.mark.e2e  # starts a process
def test_autostart_entry(installed_units: Path) -> None:
    entry = unit_sections((installed_units / "voxtral-tray.desktop").read_text())["Desktop Entry"]
    assert entry["Type"] == "Application"
    assert os.path.isabs(entry["Exec"].split()[0])
    # Skipped by systemd's autostart generator: the tray unit covers those sessions.
    assert entry["X-systemd-skip"] == "true"
    if DESKTOP_VALIDATE:
        done = subprocess.run([DESKTOP_VALIDATE, str(installed_units / "voxtral-tray.desktop")],
                              capture_output=True, text=True)
        assert done.returncode == 0 and not done.stdout.strip(), done.stdout + done.stderr


def test_desktop_exec_quoting() -> None:
    assert _systemd.quote_desktop_exec(["/opt/my app/tray", "50%"]) == (
        '"/opt/my app/tray" 50%%'
    )
    assert _systemd.quote_desktop_exec(["/usr/bin/voxtral-tray"]) == "/usr/bin/voxtral-tray"


@pytest.mark.e2e  # starts a process
def test_launchd_plists(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", "/Users/someone")
    exes = Executables(python="/usr/bin/python3", daemon=("/opt/v/bin/voxtrald",),
                       tray=("/opt/v/bin/voxtral-tray",))
    files = {f.path.name: plistlib.loads(f.content.encode())
             for f in _launchd.PLATFORM.files(exes, tmp_path, tray=True)}
    daemon = files["io.github.debrockb.voxtrald.plist"]
    tray = files["io.github.debrockb.voxtral-tray.plist"]
    assert daemon["Label"] == "io.github.debrockb.voxtrald"
    assert daemon["ProgramArguments"] == ["/opt/v/bin/voxtrald", "run"]
    assert daemon["KeepAlive"] == {"SuccessfulExit": False} and daemon["RunAtLoad"] is True
    assert daemon["StandardErrorPath"] == "/Users/someone/Library/Logs/Voxtral/voxtrald.log"
    assert tray["RunAtLoad"] is True and "KeepAlive" not in tray
    assert tray["LimitLoadToSessionType"] == "Aqua"
    if shutil.which("plutil"):
        for item in _launchd.PLATFORM.files(exes, tmp_path, tray=True):
            item.path.write_text(item.content)
            assert subprocess.run(["plutil", "-lint", str(item.path)]).returncode == 0


def test_windows_startup_script() -> None:
    script = _windows.startup_script(r"C:\Program Files\Py\pythonw.exe", tray=True)
    lines = script.split("\r\n")
    assert lines[0] == "@echo off" and script.endswith("\r\n") and "\n" not in script.replace(
        "\r\n", "")
    assert r'start "" /b "C:\Program Files\Py\pythonw.exe" -m voxtrald.cli run' in lines
    assert any("from tray.app import main" in line for line in lines)
    assert _windows.quote_cmd(["a%b", "x y"]) == 'a%%b "x y"'


def _render_module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("packaging_render", PACKAGING / "render.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_reference_copies_in_packaging_match_the_installer() -> None:
    rendered = _render_module().render_all()
    assert len(rendered) == 6
    stale = [str(rel) for rel, content in rendered.items()
             if (PACKAGING / rel).read_bytes() != content.encode("utf-8")]
    assert not stale, f"run 'python packaging/render.py': stale {stale}"
