# ruff: noqa: F811 - pytest fixtures imported from tests.support.service_units are parameters here
"""The rendered service files are valid for the tools that read them."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

from tests.support.service_units import (  # noqa: F401 - fixtures
    SYSTEMD_ANALYZE,
    installed_units,
    unit_sections,
    verify_units,
)
from voxtrald.service import _systemd, _windows
from voxtrald.service._common import Executables

ROOT = Path(__file__).resolve().parents[2].parent
PACKAGING = ROOT / "packaging"


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


def test_desktop_exec_quoting() -> None:
    assert _systemd.quote_desktop_exec(["/opt/my app/tray", "50%"]) == (
        '"/opt/my app/tray" 50%%'
    )
    assert _systemd.quote_desktop_exec(["/usr/bin/voxtral-tray"]) == "/usr/bin/voxtral-tray"


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
