"""Start-up refusals that must be one clear line, exit 1, and nothing half-created."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_daemon_e2e import start_and_fail

pytestmark = pytest.mark.e2e


@pytest.fixture
def read_only_folder(tmp_path: Path) -> Iterator[Path]:
    """A real read-only filesystem (root can write anywhere a mode forbids it)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a read-only filesystem needs root")
    mount = tmp_path / "ro"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.strip()}")
    yield mount
    subprocess.run(["umount", str(mount)], check=False)


def test_a_read_only_state_folder_is_one_line(tmp_path: Path, read_only_folder: Path) -> None:
    reason = start_and_fail(tmp_path, "--state-dir", str(read_only_folder / "state"))
    assert reason.startswith("voxtrald: cannot use the state folder"), reason
    assert "Read-only file system" in reason


def test_a_state_folder_that_is_read_only_inside_is_one_line(
    tmp_path: Path, read_only_folder: Path
) -> None:
    reason = start_and_fail(tmp_path, "--state-dir", str(read_only_folder))
    assert reason.startswith("voxtrald: cannot use the state folder"), reason
    assert not list(read_only_folder.iterdir())
