"""A models folder others could change: a tampered file with a forged stamp is never loaded.

As the attack went: the default model is assembled in a folder that is open
to everyone (0777); a second local user then replaces one model file with a
changed copy of the same size and writes a verification stamp that vouches for
it (its own inode, size and times, and the pinned hash, which is public). The
next check must not load the changed file.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.other_user import OtherUser, other_user
from voxtrald.models.integrity import ModelError
from voxtrald.models.local import assembled_folder, stamp_path
from voxtrald.models.pins import DEFAULT
from voxtrald.models.resolve import ensure_pinned

FORGE = """
import json, os, sys
folder, stamp, pins = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
victim = os.path.join(folder, "config.json")
data = bytearray(open(victim, "rb").read())
data[10] ^= 0x01
tmp = victim + ".new"
open(tmp, "wb").write(data)
os.replace(tmp, victim)  # the folder is open: any user may replace an entry
files = {}
for name, sha in pins.items():
    st = os.stat(os.path.join(folder, name))
    files[name] = {"dev": st.st_dev, "ino": st.st_ino, "size": st.st_size,
                   "mtime_ns": st.st_mtime_ns, "ctime_ns": st.st_ctime_ns, "sha256": sha}
verified = os.path.dirname(stamp)
os.rename(verified, verified + ".old")
os.mkdir(verified)
open(stamp, "w").write(json.dumps({"version": 1, "files": files}))
print("forged")
"""


@pytest.fixture
def attacker() -> OtherUser:
    return other_user()


@pytest.fixture
def open_models(models_dir: Path) -> Iterator[Path]:
    """The default model assembled in a folder everyone may change (outside pytest's 0700)."""
    root = Path(tempfile.mkdtemp(prefix="voxtral-models-", dir="/tmp"))
    ensure_pinned(DEFAULT, root)
    for path in [root, *root.rglob("*")]:
        path.chmod(0o777 if path.is_dir() else 0o644)
    yield root
    shutil.rmtree(root, ignore_errors=True)


def test_a_forged_stamp_does_not_pass_a_tampered_model(attacker: OtherUser,
                                                       open_models: Path) -> None:
    folder = assembled_folder(DEFAULT, open_models)
    pins = {name: pin.sha256 for name, pin in DEFAULT.files.items()}
    forged = attacker.run(FORGE, str(folder), str(stamp_path(open_models, DEFAULT)),
                          json.dumps(pins))
    assert forged.stdout.strip() == "forged", forged.stderr
    with pytest.raises(ModelError) as caught:
        ensure_pinned(DEFAULT, open_models)
    message = str(caught.value)
    assert "belongs to another user" in message or "does not match" in message, message


def test_a_stamp_in_a_folder_of_ones_own_still_saves_the_hashing(tmp_path: Path,
                                                                   models_dir: Path) -> None:
    """The check costs nothing where nobody else can write: the second look hashes nothing."""
    from voxtrald.models.integrity import verify_files
    from voxtrald.models.local import bundled_folder
    from voxtrald.models.pins import TINY_EN

    root = tmp_path / "models"
    ensure_pinned(TINY_EN, root)
    assert root.stat().st_mode & 0o777 == 0o700
    assert verify_files(bundled_folder(TINY_EN), TINY_EN.files, stamp_path(root, TINY_EN),
                        "reinstall") == 0
