"""Test helpers: the rendered service units and systemd-analyze verify.

Shared by the unit tests and the end-to-end tests that grew out of test_packaging_units.py,
so both build the same rig the same way.
"""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from voxtrald.service import _systemd
from voxtrald.service._common import find_executables

SYSTEMD_ANALYZE = shutil.which("systemd-analyze")


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
