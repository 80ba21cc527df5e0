# ruff: noqa: F811 - pytest fixtures imported from tests.support.service_units are parameters here
"""The rendered service files are valid for the tools that read them.

The tests that start real processes; those that start none are in
tests/unit/packaging/test_packaging_units.py.
"""

from __future__ import annotations

import os
import plistlib
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.service_units import (  # noqa: F401 - fixtures
    SYSTEMD_ANALYZE,
    installed_units,
    unit_sections,
    verify_units,
)
from voxtrald.service import _launchd
from voxtrald.service._common import Executables

DESKTOP_VALIDATE = shutil.which("desktop-file-validate")


@pytest.mark.skipif(not SYSTEMD_ANALYZE, reason="systemd-analyze not installed")
def test_units_pass_systemd_analyze_verify(installed_units: Path, tmp_path: Path) -> None:
    code, stderr = verify_units(installed_units, tmp_path / "runtime")
    assert code == 0, stderr
    # Unknown keys and bad values are only warnings; none may mention our units.
    assert "voxtral" not in stderr, stderr


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
