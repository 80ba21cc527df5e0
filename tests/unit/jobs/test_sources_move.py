"""Moving sources across filesystems: never a half-copied file under the real name."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from voxtrald.files import atomic
from voxtrald.jobs import sources

SHM = Path("/dev/shm")


@pytest.fixture
def other_fs(tmp_path: Path) -> Iterator[Path]:
    """A folder on another filesystem than tmp_path (tmpfs), or skip."""
    if not SHM.is_dir() or os.stat(SHM).st_dev == os.stat(tmp_path).st_dev:
        pytest.skip("needs /dev/shm on a filesystem of its own")
    folder = SHM / f"voxtral-test-{os.getpid()}-{tmp_path.name}"
    folder.mkdir()
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_a_move_across_filesystems_copies_then_removes(tmp_path: Path, other_fs: Path) -> None:
    source = other_fs / "talk.wav"
    source.write_bytes(b"a" * 3_000_000)
    os.utime(source, (1_000_000, 1_000_000))
    moved = sources.move_into(source, tmp_path / "Processed")
    assert moved == tmp_path / "Processed" / "talk.wav"
    assert moved.read_bytes() == b"a" * 3_000_000 and not source.exists()
    assert moved.stat().st_mtime == 1_000_000
    assert [p.name for p in moved.parent.iterdir()] == ["talk.wav"]


def test_a_copy_cut_short_leaves_the_original_and_no_half_file(
    tmp_path: Path, other_fs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = other_fs / "big.wav"
    source.write_bytes(b"b" * 3_000_000)

    def half_then_fail(src: object, dst: object, length: int = 0) -> None:
        dst.write(src.read(1_000_000))  # type: ignore[attr-defined]
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(shutil, "copyfileobj", half_then_fail)
    target_dir = tmp_path / "Processed"
    with pytest.raises(OSError, match="No space"):
        sources.move_into(source, target_dir)
    assert source.read_bytes() == b"b" * 3_000_000
    assert list(target_dir.iterdir()) == []


def test_a_temp_left_by_a_kill_mid_copy_is_swept(tmp_path: Path) -> None:
    folder = tmp_path / "Processed"
    folder.mkdir()
    (folder / f"{atomic.TEMP_PREFIX}abc.tmp").write_bytes(b"half")
    (folder / "kept.wav").write_bytes(b"whole")
    assert atomic.remove_stale(folder) == 1
    assert [p.name for p in folder.iterdir()] == ["kept.wav"]
