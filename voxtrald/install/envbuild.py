"""Make one version's environment: a virtual environment with its wheel installed.

The dependencies come from the package index through pip, as for any
install. To spare a download and hundreds of megabytes per update, the new
environment is first seeded with the distributions it needs that the running
environment already has (hard links where the filesystem allows, copies
otherwise), exactly the files their RECORD lists; pip then fetches only what
differs. The folder is complete only once `.voxtral-complete` is written,
last; a half-built one (a kill, a full disk) is removed and built again.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import zipfile
from importlib import metadata
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from voxtrald.files import atomic, hashing
from voxtrald.files.private import owned_by_me
from voxtrald.install.layout import COMPLETE, InstallRoot, env_python
from voxtrald.version import DISTRIBUTION

log = logging.getLogger("voxtrald.install")

PIP_TIMEOUT = 30 * 60.0
_OFFLINE_SIGNS = (
    "Could not find a version that satisfies", "No matching distribution found",
    "Failed to establish a new connection", "Temporary failure in name resolution",
    "Network is unreachable", "Connection refused", "Max retries exceeded",
    "Could not fetch URL", "Name or service not known",
)


class EnvError(Exception):
    """The environment could not be built; nothing was switched. `code` for scripts."""

    def __init__(self, message: str, code: str = "install_failed") -> None:
        super().__init__(message)
        self.code = code


def site_packages(env: Path) -> list[Path]:
    """A virtual environment's library folders (purelib first, platlib if different)."""
    names = {"base": str(env), "platbase": str(env)}
    found = [Path(sysconfig.get_path(kind, "venv", vars=names)) for kind in ("purelib",
                                                                            "platlib")]
    return list(dict.fromkeys(found))


def running_site_packages() -> list[Path]:
    paths = sysconfig.get_paths()
    return list(dict.fromkeys(Path(paths[k]) for k in ("purelib", "platlib")))


def wheel_requirements(wheel: Path) -> list[Requirement]:
    """The wheel's own Requires-Dist that apply here (no extras)."""
    try:
        with zipfile.ZipFile(wheel) as zf:
            name = next((n for n in zf.namelist()
                         if n.count("/") == 1 and n.endswith(".dist-info/METADATA")), None)
            if name is None:
                raise EnvError(f"{wheel.name} has no metadata; it is not a wheel")
            text = zf.read(name).decode("utf-8", "replace")
    except (OSError, zipfile.BadZipFile) as exc:
        raise EnvError(f"{wheel.name} cannot be read as a wheel: {exc}") from None
    found = []
    for line in text.splitlines():
        if not line.startswith("Requires-Dist:"):
            continue
        try:
            req = Requirement(line.split(":", 1)[1].strip())
        except InvalidRequirement:
            continue
        if req.marker is None or req.marker.evaluate({"extra": ""}):
            found.append(req)
    return found


def _closure(requirements: list[Requirement],
             available: dict[str, metadata.Distribution]) -> list[metadata.Distribution]:
    """The installed distributions these requirements pull in, transitively."""
    todo = list(requirements)
    chosen: dict[str, metadata.Distribution] = {}
    while todo:
        req = todo.pop()
        name = canonicalize_name(req.name)
        dist = available.get(name)
        if name in chosen or dist is None or name == DISTRIBUTION:
            continue
        if req.specifier and not req.specifier.contains(dist.version, prereleases=True):
            continue  # pip fetches the version the new release needs
        chosen[name] = dist
        for text in dist.requires or []:
            try:
                sub = Requirement(text)
            except InvalidRequirement:
                continue
            if sub.marker is None or sub.marker.evaluate({"extra": ""}):
                todo.append(sub)
    return list(chosen.values())


def _link_or_copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def seed(target_site: Path, sources: list[Path], requirements: list[Requirement]) -> int:
    """Put the already installed distributions the new version needs into `target_site`."""
    available: dict[str, metadata.Distribution] = {}
    for dist in metadata.distributions(path=[str(p) for p in sources]):
        name = canonicalize_name(dist.metadata["Name"] or "")
        available.setdefault(name, dist)
    copied = 0
    for dist in _closure(requirements, available):
        files = dist.files or []
        base = Path(str(dist.locate_file("")))
        for item in files:
            rel = Path(str(item))
            if rel.is_absolute() or ".." in rel.parts:
                continue  # scripts and data outside site-packages: pip's business
            src = base / rel
            if src.is_file() and not (target_site / rel).exists():
                _link_or_copy(src, target_site / rel)
                copied += 1
    return copied


def _run(cmd: list[str], what: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=PIP_TIMEOUT,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise EnvError(f"{what} took longer than {PIP_TIMEOUT / 60:.0f} minutes") from None
    except OSError as exc:
        raise EnvError(f"cannot run {what}: {exc.strerror or exc}") from None


def _pip_failure(version: str, output: str) -> EnvError:
    tail = [line.strip() for line in output.strip().splitlines() if line.strip()]
    last = next((line for line in reversed(tail) if line.startswith("ERROR")), None) or \
        (tail[-1] if tail else "no output")
    if "No space left on device" in output:
        return EnvError(f"the disk is full: cannot install Voxtral {version} ({last[:300]})",
                        "disk_full")
    if any(sign in output for sign in _OFFLINE_SIGNS):
        return EnvError(f"cannot download the dependencies of Voxtral {version} from the "
                        f"package index (offline?): {last[:300]}", "offline")
    return EnvError(f"installing Voxtral {version} failed: {last[:300]}", "install_failed")


def build(root: InstallRoot, version: str, wheel: Path, sha256: str,
          seed_from: list[Path] | None = None, signed_at: int | None = None) -> Path:
    """The complete environment of `version` (built now unless an identical one exists).

    pip never reads `wheel` itself: the bytes are copied into a fresh private
    folder and hashed while copying, and only that copy, matching `sha256`,
    is installed. A wheel swapped after it was verified is refused, not installed
    under the verified wheel's name.
    """
    target = root.version_dir(version)
    if root.is_complete(version) and owned_by_me(target / COMPLETE):
        with contextlib.suppress(OSError, ValueError):
            if json.loads((target / COMPLETE).read_text(encoding="utf-8")).get(
                    "wheel_sha256") == sha256:
                return target
    remove(target)
    try:
        root.versions_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=".wheel-", dir=root.path) as private:
            local = Path(private) / wheel.name
            try:
                copied_sha = hashing.copy_hashed(wheel, local)
            except OSError as exc:
                raise EnvError(f"cannot read the wheel {wheel}: {exc.strerror or exc}",
                               "disk_full" if exc.errno == 28 else "install_failed"
                               ) from None
            if copied_sha != sha256:
                raise EnvError(f"the wheel {wheel.name} changed after it was verified; "
                               "nothing was installed", "verification_failed")
            _make_env(target, version, local, seed_from)
        # When its release was signed: a later update must have been signed after it.
        marker = {"version": version, "wheel_sha256": sha256, "signed_at": signed_at}
        atomic.write_atomic(target / COMPLETE, json.dumps(marker))
    except BaseException:
        remove(target)
        raise
    return target


def _make_env(target: Path, version: str, wheel: Path, seed_from: list[Path] | None) -> None:
    made = _run([sys.executable, "-m", "venv", str(target)], "python -m venv")
    if made.returncode != 0:
        raise _pip_failure(version, made.stdout + made.stderr)
    requirements = wheel_requirements(wheel)
    try:
        copied = seed(site_packages(target)[0], seed_from or running_site_packages(),
                      requirements)
    except OSError as exc:
        if exc.errno == 28:
            raise EnvError(f"the disk is full: cannot install Voxtral {version}",
                           "disk_full") from None
        raise EnvError(f"cannot prepare Voxtral {version}'s environment: {exc}") from None
    log.info("environment for %s seeded with %d installed files", version, copied)
    pip = _run([str(env_python(target)), "-m", "pip", "install", "--no-input",
                "--disable-pip-version-check", str(wheel)], "pip")
    if pip.returncode != 0:
        raise _pip_failure(version, pip.stdout + pip.stderr)


def remove(folder: Path) -> None:
    """Delete a version folder, the completion mark first so it is never half-trusted."""
    with contextlib.suppress(FileNotFoundError):
        (folder / COMPLETE).unlink()
    shutil.rmtree(folder, ignore_errors=True)


def sweep_incomplete(root: InstallRoot, keep: set[str]) -> None:
    """Remove version folders a kill or a full disk left half-built."""
    with contextlib.suppress(OSError):
        for entry in root.versions_dir.iterdir():
            if entry.name not in keep and not (entry / COMPLETE).is_file():
                log.info("removing the unfinished environment %s", entry)
                remove(entry)
