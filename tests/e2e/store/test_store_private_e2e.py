"""The job store is as private as the recordings it names, against a second local user.

A real daemon transcribes a 0600 recording in a home others may enter (0755,
as homes usually are); another user then tries to read the store the way the
attack went. A state folder someone else made is refused at start.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import DaemonProc, wait_for

from tests.support.other_user import OtherUser, other_user

READ = """
import os, sys
for path in sys.argv[1:]:
    try:
        with open(path, "rb") as fh:
            fh.read(1)
        print("READ", path)
    except FileNotFoundError:
        pass
    except PermissionError:
        print("DENIED", path)
try:
    print("LISTED", os.listdir(os.path.dirname(sys.argv[1])))
except PermissionError:
    print("DENIED listing")
"""


@pytest.fixture
def attacker() -> OtherUser:
    return other_user()


@pytest.fixture
def home() -> Iterator[Path]:
    """A home others may pass through (0755), outside pytest's private temp folders."""
    folder = Path(tempfile.mkdtemp(prefix="voxtral-home-", dir="/tmp"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_another_user_cannot_read_the_store(attacker: OtherUser, home: Path,
                                            speech_wav: Path) -> None:
    d = DaemonProc(home, None, None)
    d.state_dir.mkdir(mode=0o755)  # as an older version left it
    d.state_dir.chmod(0o755)
    d.start()
    try:
        source = d.inbox / "private.wav"
        tmp = d.inbox / ".private.part"
        shutil.copyfile(speech_wav, tmp)
        tmp.chmod(0o600)
        tmp.rename(source)
        d.wait_jobs(1)
        store = d.state_dir / "jobs.sqlite3"
        files = [store, Path(f"{store}-wal"), Path(f"{store}-shm")]
        seen = attacker.run(READ, *map(str, files))
        assert "READ" not in seen.stdout and "LISTED" not in seen.stdout, seen.stdout
        assert "DENIED listing" in seen.stdout
        assert d.state_dir.stat().st_mode & 0o777 == 0o700
        for path in files:
            if path.exists():
                assert path.stat().st_mode & 0o777 == 0o600, path
    finally:
        d.stop()


def test_a_state_folder_another_user_made_is_refused(attacker: OtherUser, home: Path) -> None:
    shared = Path(tempfile.mkdtemp(prefix="voxtral-shared-", dir="/tmp"))
    shared.rmdir()
    made = attacker.run("import os, sys; os.mkdir(sys.argv[1]); os.chmod(sys.argv[1], 0o777)",
                        str(shared))
    assert made.returncode == 0, made.stderr
    try:
        d = DaemonProc(home, None, None)
        d.state_dir = shared
        d.start(wait_ready=False)
        assert d.proc is not None
        code = d.proc.wait(60)
        wait_for(lambda: "belongs to another user" in d.log(), 10, "the refusal in the log")
        assert code != 0
        assert f"uid {attacker.uid}" in d.log()
        assert list(shared.iterdir()) == []  # nothing of ours was put there
    finally:
        subprocess.run(["rm", "-rf", str(shared)], check=False)
