"""The wheel pip installs is the one that was verified, even if the file is swapped.

Applying verifies the staged wheel, then installs it. Another process that can
replace the file in between must not get other bytes
installed under the verified hash.
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest

from voxtrald.files.hashing import sha256_file
from voxtrald.install import envbuild
from voxtrald.install.layout import InstallRoot


def _wheel(folder: Path, content: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "voxtral-9.0.0-py3-none-any.whl"
    info = "voxtral-9.0.0.dist-info"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(f"{info}/METADATA", "Metadata-Version: 2.1\nName: voxtral\n"
                    "Version: 9.0.0\n\n")
        zf.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nGenerator: test\n"
                    "Root-Is-Purelib: true\nTag: py3-none-any\n")
        zf.writestr("voxtral_probe.py", f"WHO = {content!r}\n")
        zf.writestr(f"{info}/RECORD", f"voxtral_probe.py,,\n{info}/METADATA,,\n"
                    f"{info}/WHEEL,,\n{info}/RECORD,,\n")
    path.write_bytes(buf.getvalue())
    return path


@pytest.fixture
def root(tmp_path: Path) -> InstallRoot:
    r = InstallRoot(tmp_path / "install")
    r.path.mkdir(mode=0o700)
    (r.path / "voxtral-install.json").write_text("{}")
    return r


def _swap(staged: Path, other: Path) -> None:
    """What the attacker did: a new file renamed over the verified one."""
    tmp = staged.with_suffix(".swap")
    tmp.write_bytes(other.read_bytes())
    os.replace(tmp, staged)


def test_a_wheel_swapped_after_verification_is_refused(root: InstallRoot,
                                                      tmp_path: Path) -> None:
    staged = _wheel(tmp_path / "staged", "verified")
    verified = sha256_file(staged)  # what apply checked
    _swap(staged, _wheel(tmp_path / "evil", "attacker"))
    with pytest.raises(envbuild.EnvError) as caught:
        envbuild.build(root, "9.0.0", staged, verified)
    assert caught.value.code == "verification_failed", caught.value
    assert not root.version_dir("9.0.0").exists()


def test_a_wheel_swapped_while_installing_installs_the_verified_bytes(
        root: InstallRoot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    staged = _wheel(tmp_path / "staged", "verified")
    verified = sha256_file(staged)
    evil = _wheel(tmp_path / "evil", "attacker")
    real_seed = envbuild.seed

    def seed_then_swap(*args: object, **kwargs: object) -> int:
        _swap(staged, evil)  # the moment between the check and pip
        return real_seed(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(envbuild, "seed", seed_then_swap)
    target = envbuild.build(root, "9.0.0", staged, verified)
    probe = envbuild.site_packages(target)[0] / "voxtral_probe.py"
    assert probe.read_text() == "WHO = 'verified'\n"
