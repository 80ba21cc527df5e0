"""Test helpers: an install root with fake versions and wheels that need a given module.

Shared by the unit tests and the end-to-end tests that grew out of test_updates_install.py,
so both build the same rig the same way.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from voxtrald.install.layout import COMPLETE, InstallRoot, scripts_dir


def fake_version(root: InstallRoot, version: str, program: str | None = None) -> None:
    """A version folder that counts as complete; `program` is its voxtrald (a shell script)."""
    folder = root.version_dir(version)
    bindir = scripts_dir(folder)
    bindir.mkdir(parents=True)
    if program is not None:
        (bindir / "voxtrald").write_text("#!/bin/sh\n" + program + "\n")
        (bindir / "voxtrald").chmod(0o755)
    (folder / COMPLETE).write_text(json.dumps({"version": version}))


@pytest.fixture
def root(tmp_path: Path) -> InstallRoot:
    r = InstallRoot(tmp_path / "install")
    r.path.mkdir()
    (r.path / "voxtral-install.json").write_text("{}")
    return r


def _wheel_needing(dep: str, folder: Path) -> Path:
    path = folder / "voxtral-9.0.0-py3-none-any.whl"
    info = "voxtral-9.0.0.dist-info"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(f"{info}/METADATA", f"Metadata-Version: 2.1\nName: voxtral\nVersion: 9.0.0"
                    f"\nRequires-Dist: {dep}\n\n")
        zf.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nGenerator: test\n"
                    "Root-Is-Purelib: true\nTag: py3-none-any\n")
        zf.writestr("voxtral_probe.py", "")
        zf.writestr(f"{info}/RECORD", f"voxtral_probe.py,,\n{info}/METADATA,,\n"
                    f"{info}/WHEEL,,\n{info}/RECORD,,\n")
    path.write_bytes(buf.getvalue())
    return path
