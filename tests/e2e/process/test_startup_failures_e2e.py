"""Start-up refusals that must be one clear line, exit 1, and nothing half-created."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import tmpfs
from tests.e2e.process.test_daemon_e2e import start_and_fail


@pytest.fixture
def read_only_folder(tmp_path: Path) -> Iterator[Path]:
    """A real read-only filesystem (root can write anywhere a mode forbids it)."""
    with tmpfs(tmp_path / "ro", "ro,size=1m") as folder:
        yield folder


def test_a_read_only_state_folder_is_one_line(tmp_path: Path, read_only_folder: Path) -> None:
    reason = start_and_fail(tmp_path, "--state-dir", str(read_only_folder / "state"))
    assert reason.startswith("voxtrald: cannot use the state folder"), reason
    assert "Read-only file system" in reason


def test_a_state_folder_that_is_read_only_inside_is_one_line(
    tmp_path: Path, read_only_folder: Path
) -> None:
    reason = start_and_fail(tmp_path, "--state-dir", str(read_only_folder))
    # A tmpfs root is open to everyone (1777): the private-folder rule names that, and
    # why it could not be closed, in one line.
    assert reason.startswith(f"voxtrald: the state folder {read_only_folder}"), reason
    assert "Read-only file system" in reason and "\n" not in reason.strip()
    assert not list(read_only_folder.iterdir())
