"""Where a side-by-side install keeps things, and what kind of install is running.

    DIR/voxtral-install.json   marks DIR as ours
    DIR/versions/X.Y.Z/        one virtual environment per version
    DIR/versions/X.Y.Z/.voxtral-complete   written last: only a complete one is used
    DIR/current -> versions/X.Y.Z   switched by one rename, so it is never half-changed
    DIR/bin/voxtrald, DIR/bin/voxtral-tray   launchers that always start `current`
    DIR/pending                the version whose supervisor finishes an update or rollback
    DIR/install-state.json     failed versions, the update being tried, what happened

A source checkout or a plain pip install is not updated in place; `detect`
tells which kind runs, and `how_to_update` what to do instead.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import sysconfig
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from packaging.version import InvalidVersion, Version

MARKER = "voxtral-install.json"
VERSIONS = "versions"
CURRENT = "current"
PENDING = "pending"
STATE = "install-state.json"
COMPLETE = ".voxtral-complete"
PROGRAMS = ("voxtrald", "voxtral-tray")
_VERSION_NAME = re.compile(r"[0-9][0-9A-Za-z.+-]{0,63}")


class LayoutError(Exception):
    """The install folder cannot be used as asked; the message says why."""


def valid_version(name: str) -> bool:
    """A folder name that is a plain version (nothing a path or a shell could misread)."""
    if not _VERSION_NAME.fullmatch(name):
        return False
    try:
        Version(name)
    except InvalidVersion:
        return False
    return True


def scripts_dir(env: Path) -> Path:
    """Where a virtual environment keeps its programs (`bin`, or `Scripts` on Windows)."""
    return Path(sysconfig.get_path("scripts", "venv", vars={"base": str(env),
                                                              "platbase": str(env)}))


def env_python(env: Path) -> Path:
    """The interpreter of a virtual environment (`python`, or `python.exe` on Windows)."""
    folder = scripts_dir(env)
    for name in ("python", "python.exe"):
        if (folder / name).exists():
            return folder / name
    return folder / "python"


@dataclass(frozen=True)
class InstallRoot:
    path: Path

    @property
    def versions_dir(self) -> Path:
        return self.path / VERSIONS

    @property
    def current_link(self) -> Path:
        return self.path / CURRENT

    @property
    def bin_dir(self) -> Path:
        return self.path / "bin"

    @property
    def pending_file(self) -> Path:
        return self.path / PENDING

    @property
    def state_file(self) -> Path:
        return self.path / STATE

    def version_dir(self, version: str) -> Path:
        if not valid_version(version):
            raise LayoutError(f"{version!r} is not a version")
        return self.versions_dir / version

    def is_ours(self) -> bool:
        return (self.path / MARKER).is_file()

    def is_complete(self, version: str) -> bool:
        return valid_version(version) and (self.version_dir(version) / COMPLETE).is_file()

    def python(self, version: str) -> Path:
        return env_python(self.version_dir(version))

    def program(self, version: str, name: str) -> Path:
        folder = scripts_dir(self.version_dir(version))
        found = [p for p in folder.glob(name + "*") if p.stem == name]
        return found[0] if found else folder / name

    def current(self) -> str | None:
        """The version `current` points at, if it is a complete one."""
        try:
            target = os.readlink(self.current_link)
        except OSError:
            return None
        name = Path(target).name
        return name if self.is_complete(name) else None

    def versions(self) -> list[str]:
        """The complete versions, oldest first."""
        try:
            names = [p.name for p in self.versions_dir.iterdir()]
        except OSError:
            return []
        return sorted((n for n in names if self.is_complete(n)), key=Version)

    def switch(self, version: str) -> None:
        """Point `current` at `version` in one rename; the old pointer stays until then."""
        if not self.is_complete(version):
            raise LayoutError(f"version {version} is not completely installed in {self.path}")
        tmp = self.path / f".{CURRENT}-{os.getpid()}"
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        try:
            os.symlink(Path(VERSIONS) / version, tmp, target_is_directory=True)
            os.replace(tmp, self.current_link)
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise LayoutError(f"cannot point {self.current_link} at {version}: "
                              f"{exc.strerror or exc}") from exc
        sync_dir(self.path)

    def pending(self) -> str | None:
        try:
            name = self.pending_file.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError):
            return None
        return name if valid_version(name) else None


def sync_dir(folder: Path) -> None:
    """Make a rename in `folder` durable; a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def signed_at(version_dir: Path | None) -> int | None:
    """When the release installed in `version_dir` was signed, if it came as a signed update."""
    if version_dir is None:
        return None
    try:
        value = json.loads((version_dir / COMPLETE).read_text(encoding="utf-8")).get("signed_at")
    except (OSError, ValueError, AttributeError):
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class Kind(StrEnum):
    ROOT = "side-by-side"
    CHECKOUT = "source checkout"
    OTHER = "other"


@dataclass(frozen=True)
class Running:
    """The install this process runs from."""

    kind: Kind
    root: InstallRoot | None = None
    version_dir: Path | None = None
    source: Path | None = None


def detect(prefix: Path | None = None, package_dir: Path | None = None) -> Running:
    """Which kind of install runs this code: ours (with its root), a checkout, or other."""
    env = Path(prefix or sys.prefix).absolute()
    if env.parent.name == VERSIONS:
        root = InstallRoot(env.parent.parent)
        if root.is_ours() and (env / COMPLETE).is_file():
            return Running(Kind.ROOT, root, env)
    if package_dir is None:
        import voxtrald

        package_dir = Path(voxtrald.__file__).resolve().parent
    tree = package_dir.parent
    if (tree / "pyproject.toml").is_file() and (tree / "VERSION").is_file():
        return Running(Kind.CHECKOUT, source=tree)
    return Running(Kind.OTHER)


def how_to_update(running: Running) -> str:
    """What a user of an install that cannot update itself should do instead."""
    if running.kind == Kind.CHECKOUT:
        assert running.source is not None
        how = "`git pull` and `make run`" if (running.source / ".git").exists() else \
            "replace it with the new release's source and run `make run`"
        return (f"this Voxtral runs from a source checkout ({running.source}), which is not "
                f"updated in place: update it with {how}, or install side by side with "
                "`voxtrald install --root DIR` and start DIR/bin/voxtrald")
    if running.kind == Kind.OTHER:
        return (f"this Voxtral was installed into {sys.prefix} by other means, which is not "
                "updated in place: install the downloaded wheel there with pip (`voxtrald "
                "download-update` prints its path), or install side by side with "
                "`voxtrald install --root DIR` and start DIR/bin/voxtrald")
    return ""
