"""`voxtrald install --root DIR`: this version, side by side, ready to be updated.

Builds `DIR/versions/X.Y.Z/` from a wheel of the running version (built from
the source checkout it runs from, or given with --wheel), points `current`
at it and writes the launchers. Running it again repairs an install of the
same version; an install of another version is changed with apply-update.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from importlib.util import find_spec
from pathlib import Path

import platformdirs

from voxtrald import _platform
from voxtrald.files import atomic, hashing
from voxtrald.files.private import NotPrivate, owned_by_me, private_folder
from voxtrald.install import envbuild
from voxtrald.install.layout import MARKER, PROGRAMS, InstallRoot, Kind, LayoutError, detect
from voxtrald.updates.download import wheel_version

LAUNCHER_MARK = "Written by 'voxtrald install'; it starts DIR/current."


def default_root() -> Path:
    return Path(platformdirs.user_data_dir("voxtral", appauthor=False)) / "install"




def build_wheel(source: Path, outdir: Path) -> Path:
    """A wheel of the checkout this code runs from (this environment's setuptools if any)."""
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(outdir)]
    if find_spec("setuptools") is not None and find_spec("wheel") is not None:
        cmd.append("--no-build-isolation")  # offline and fast
    done = subprocess.run([*cmd, str(source)], capture_output=True, text=True, timeout=600,
                          stdin=subprocess.DEVNULL)
    wheels = sorted(outdir.glob("voxtral-*.whl"))
    if done.returncode != 0 or not wheels:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise LayoutError(f"cannot build a wheel of {source}: {tail}")
    return wheels[0]


def write_launchers(root: InstallRoot) -> list[Path]:
    written = []
    for program in PROGRAMS:
        path, text = _platform.launcher(root.path, program, program == "voxtrald",
                                        LAUNCHER_MARK)
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic.write_atomic(path, text, 0o755)
        written.append(path)
    return written


def check_root(root: InstallRoot, create: bool) -> None:
    """The install folder and everything a launcher starts belong to this user alone.

    The launchers run whatever `current` points at, so a folder someone else
    made (even an empty one), or a `bin/`, `versions/X` or completion mark of
    theirs inside ours, would have us run their code; each is refused.
    """
    try:
        private_folder(root.path, "install folder", create=create)
        for sub in (root.versions_dir, root.bin_dir):
            if os.path.lexists(sub):
                private_folder(sub, "install folder", create=False)
        for folder in (root.path, root.versions_dir, root.bin_dir):
            for entry in _entries(folder):
                if not owned_by_me(entry):
                    raise NotPrivate(f"{entry} in the install folder belongs to another user "
                                     "or can be changed by others; remove it or choose "
                                     "another folder")
    except NotPrivate as exc:
        raise LayoutError(str(exc)) from None


def _entries(folder: Path) -> list[Path]:
    try:
        return list(folder.iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return []


def install(target: Path, wheel: Path | None) -> str:
    """Install and return what to tell the user; LayoutError/EnvError say why not."""
    root = InstallRoot(target.expanduser().absolute())
    if root.path.exists() and any(root.path.iterdir()) and not root.is_ours():
        raise LayoutError(f"{root.path} is not empty and is not a Voxtral install; choose an "
                          "empty or new folder")
    check_root(root, create=True)
    with tempfile.TemporaryDirectory(prefix="voxtral-install-") as tmp:
        if wheel is None:
            running = detect()
            if running.kind != Kind.CHECKOUT or running.source is None:
                raise LayoutError("this Voxtral was not started from a source checkout, so "
                                  "there is nothing to build it from here; pass the release's "
                                  "wheel with --wheel FILE")
            wheel = build_wheel(running.source, Path(tmp))
        version = wheel_version(wheel)
        if version is None:
            raise LayoutError(f"{wheel} is not a Voxtral wheel")
        existing = root.current()
        if existing not in (None, version):
            raise LayoutError(f"{root.path} already runs Voxtral {existing}; change versions "
                              "with `voxtrald apply-update` (or `voxtrald rollback`)")
        root.path.mkdir(parents=True, exist_ok=True)
        atomic.write_atomic(root.path / MARKER, json.dumps({"format": 1}) + "\n")
        local = Path(tmp) / wheel.name
        if wheel.resolve() != local.resolve():
            shutil.copyfile(wheel, local)
        # The wheel built or given here is what the user asked for: its hash is taken
        # now, and build() installs only a private copy that still matches it.
        envbuild.build(root, version, local, hashing.sha256_file(local))
    write_launchers(root)
    root.switch(version)
    launcher = root.bin_dir / "voxtrald"
    return (f"Installed Voxtral {version} in {root.version_dir(version)}.\n"
            f"Start it with: {launcher} run\n"
            f"Start it with your login: {launcher} install-service\n"
            f"Updates are applied with: {launcher} apply-update")
