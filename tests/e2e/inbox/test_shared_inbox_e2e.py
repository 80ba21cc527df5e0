"""An inbox another user can write to: their links are not followed, our transcripts stay ours."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                       reason="acting as another user needs root"),
    pytest.mark.skipif(shutil.which("setpriv") is None, reason="needs setpriv (util-linux)"),
]


def as_nobody(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                           *argv], capture_output=True, text=True, timeout=30)


@pytest.fixture
def reachable(tmp_path: Path) -> Iterator[None]:
    """Let another user pass through the test's folders (not list them), then lock up again."""
    folders = [tmp_path, *[p for p in tmp_path.parents if p != Path(tempfile.gettempdir())
                          and Path(tempfile.gettempdir()) in p.parents]]
    modes = {f: stat.S_IMODE(f.stat().st_mode) for f in folders}
    for folder in folders:
        folder.chmod(modes[folder] | 0o011)
    yield
    for folder, mode in modes.items():
        folder.chmod(mode)


def test_another_users_link_is_set_aside_and_private_recordings_get_private_transcripts(
    daemon, data_dir: Path, reachable: None
) -> None:
    daemon.inbox.chmod(0o1777)  # a shared folder: anyone may drop files
    daemon.root.chmod(0o711)
    secret = daemon.root / "private.wav"
    shutil.copyfile(data_dir / "fox.wav", secret)
    secret.chmod(0o600)
    planted = as_nobody("ln", "-s", str(secret), str(daemon.inbox / "x.wav"))
    assert planted.returncode == 0, planted.stderr
    (job,) = daemon.wait_jobs(1, states=("failed",))
    assert job["file"] == "x.wav" and "links are not followed" in job["error"]
    assert list(daemon.transcripts.glob("x.*")) == []
    daemon.wait_for((daemon.failed / "x.wav").is_symlink, 10, "the link to be set aside")

    mine = daemon.drop(data_dir / "stella.mp3", "mine.mp3")
    mine.chmod(0o600)
    os.utime(mine)  # settles again as it is now: private
    daemon.wait_jobs(2, states=("done", "failed"))
    txt = daemon.transcripts / "mine.txt"
    daemon.wait_for(txt.exists, 30, "the private recording's transcript")
    assert stat.S_IMODE(txt.stat().st_mode) == 0o600
    assert stat.S_IMODE(daemon.transcripts.stat().st_mode) == 0o700
    peek = as_nobody("cat", str(txt))
    assert peek.returncode != 0 and "Permission denied" in peek.stderr
