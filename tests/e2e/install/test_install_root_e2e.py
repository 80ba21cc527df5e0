"""`voxtrald install --root DIR` against a folder another local user prepared.

The attack as it was made: a second user makes DIR in the shared /tmp, with a
completion mark naming the release wheel's SHA-256 and a `bin/voxtrald` of
their own; the victim installs there. The install must be refused, so the
victim's launcher never runs the other user's code.
"""

from __future__ import annotations

import io
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.other_user import OtherUser, other_user
from voxtrald.files.hashing import sha256_file

VERSION = "9.9.9"


@pytest.fixture
def attacker() -> OtherUser:
    return other_user()


@pytest.fixture
def wheel(tmp_path: Path) -> Path:
    """A wheel that names itself Voxtral 9.9.9 (the victim's download)."""
    info = f"voxtral-{VERSION}.dist-info"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(f"{info}/METADATA", f"Metadata-Version: 2.1\nName: voxtral\n"
                    f"Version: {VERSION}\n")
        zf.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\n"
                    "Tag: py3-none-any\n")
        zf.writestr(f"{info}/RECORD", "")
    path = tmp_path / f"voxtral-{VERSION}-py3-none-any.whl"
    path.write_bytes(buf.getvalue())
    return path


@pytest.fixture
def shared_tmp(attacker: OtherUser) -> Iterator[Path]:
    """A name in the world-writable /tmp, which the attacker claims first."""
    folder = Path(tempfile.mkdtemp(prefix="voxtral-install-", dir="/tmp"))
    folder.rmdir()
    yield folder
    subprocess.run(["rm", "-rf", str(folder)], check=False)


PREPARE = """
import json, os, sys
root, sha, version, planted = sys.argv[1:5]
os.mkdir(root, 0o755)
if planted == "yes":
    open(os.path.join(root, "voxtral-install.json"), "w").write("{}")
    env = os.path.join(root, "versions", version)
    os.makedirs(os.path.join(env, "bin"))
    with open(os.path.join(env, ".voxtral-complete"), "w") as fh:
        json.dump({"version": version, "wheel_sha256": sha}, fh)
    for where in (os.path.join(env, "bin", "voxtrald"), os.path.join(env, "bin", "python")):
        with open(where, "w") as fh:
            fh.write("#!/bin/sh\\necho attacker-code-ran-as-$(id -u)\\n")
        os.chmod(where, 0o755)
"""


def _install(root: Path, wheel: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "voxtrald", "install", "--root", str(root),
                           "--wheel", str(wheel)], capture_output=True, text=True, timeout=300,
                          stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("planted", ["yes", "no"], ids=["prepared", "empty"])
def test_a_folder_another_user_prepared_is_refused(
        attacker: OtherUser, shared_tmp: Path, wheel: Path, planted: str) -> None:
    made = attacker.run(PREPARE, str(shared_tmp), sha256_file(wheel), VERSION, planted)
    assert made.returncode == 0, made.stderr
    done = _install(shared_tmp, wheel)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "belongs to another user" in done.stderr, done.stderr
    assert f"uid {attacker.uid}" in done.stderr
    # Nothing of ours was written there for the other user to swap later.
    assert not (shared_tmp / "bin").exists() and not (shared_tmp / "current").exists()


def test_a_planted_entry_inside_an_own_folder_is_refused(
        attacker: OtherUser, shared_tmp: Path, wheel: Path) -> None:
    """Our own folder, but a `versions/9.9.9` the other user slipped in while it was open."""
    made = attacker.run(PREPARE, str(shared_tmp), sha256_file(wheel), VERSION, "yes")
    assert made.returncode == 0, made.stderr
    own = shared_tmp.parent / (shared_tmp.name + "-own")
    try:
        own.mkdir(mode=0o700)
        subprocess.run(["cp", "-a", str(shared_tmp / "versions"),
                        str(shared_tmp / "voxtral-install.json"), str(own)], check=True)
        done = _install(own, wheel)
        assert done.returncode == 1, done.stdout + done.stderr
        assert "belongs to another user" in done.stderr, done.stderr
        assert not (own / "bin").exists()
    finally:
        subprocess.run(["rm", "-rf", str(own)], check=False)


def test_a_folder_of_ones_own_is_made_private(tmp_path: Path) -> None:
    """The check refuses only what others could change: an own, new folder is made 0700."""
    from voxtrald.files.private import private_folder

    root = tmp_path / "open" / "install"
    root.parent.mkdir(mode=0o755)
    root.mkdir(mode=0o755)
    private_folder(root, "install folder")
    assert root.stat().st_mode & 0o777 == 0o700
