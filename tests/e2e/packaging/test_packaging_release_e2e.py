"""packaging/release.py on a real temporary clone of this repository.

The tests that start real processes; those that start none are in
tests/unit/packaging/test_packaging_release.py.
"""

from __future__ import annotations

import hashlib
import importlib.util
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from tests.support.release_rig import ROOT, SCRIPT, _load_release, release  # noqa: F401 - fixtures

HAS_BUILD = importlib.util.find_spec("build") is not None


GIT_ID = ["-c", "user.name=Release Test", "-c", "user.email=release@example.invalid"]


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *GIT_ID, *args], cwd=repo, check=True, capture_output=True,
                          text=True).stdout


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    """This repository's committed state, tagged v1.0.0, as a separate clone."""
    repo = tmp_path / "repo"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(repo)], check=True)
    if not (repo / "README.md").exists():  # pyproject names it as the long description
        (repo / "README.md").write_text("# Voxtral\n")
        git(repo, "add", "README.md")
        git(repo, "commit", "--quiet", "-m", "readme")
    git(repo, "tag", "v1.0.0")
    return repo


def set_version(repo: Path, version: str) -> None:
    (repo / "VERSION").write_text(version + "\n")
    git(repo, "commit", "--quiet", "--allow-empty", "-m", f"version {version}", "VERSION")


def run_release(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), "--root", str(repo), *args],
                          capture_output=True, text=True, timeout=300)


@pytest.mark.skipif(not HAS_BUILD, reason="the 'build' package is needed")
def test_release_builds_a_wheel_whose_checksum_is_listed(clone: Path) -> None:
    set_version(clone, "1.0.1")
    done = run_release(clone, "--skip-tests")
    assert done.returncode == 0, done.stdout + done.stderr

    dist = clone / "dist"
    wheel = dist / "voxtral-1.0.1-py3-none-any.whl"
    sdist = dist / "voxtral-1.0.1.tar.gz"
    lines = (dist / "SHA256SUMS").read_text().splitlines()
    expected = {f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.name}" for p in (wheel, sdist)}
    assert set(lines) == expected and len(lines) == 2

    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        meta = zf.read("voxtral-1.0.1.dist-info/METADATA").decode()
    assert "Version: 1.0.1" in meta
    assert "voxtrald/service/sdnotify.py" in names and "voxtrald/service/_systemd.py" in names

    assert "git tag v1.0.1 && git push origin v1.0.1" in done.stdout
    assert "dist/SHA256SUMS" in done.stdout
    assert git(clone, "tag", "--list", "v1.0.1") == ""  # it tells, it does not tag


@pytest.mark.parametrize(
    ("version", "message"),
    [
        ("1.0.0", "not newer than the last release tag v1.0.0"),
        ("0.9.9", "not newer than the last release tag v1.0.0"),
        ("1.0", "not a semantic version"),
    ],
)
def test_release_refuses_a_version_that_is_not_newer_or_not_valid(
    clone: Path, version: str, message: str
) -> None:
    set_version(clone, version)
    done = run_release(clone, "--skip-tests")
    assert done.returncode == 1
    assert message in done.stderr
    assert not (clone / "dist").exists()


def test_release_refuses_uncommitted_changes(clone: Path) -> None:
    (clone / "VERSION").write_text("1.0.1\n")
    done = run_release(clone, "--skip-tests")
    assert done.returncode == 1
    assert "uncommitted changes" in done.stderr and "--allow-dirty" in done.stderr


def test_release_stops_when_the_tests_fail(clone: Path) -> None:
    set_version(clone, "1.0.1")
    # A clone whose suite is one failing test: the release must not build.
    for old in (clone / "tests").glob("*.py"):
        old.unlink()
    (clone / "tests" / "test_broken.py").write_text("def test_broken():\n    assert False\n")
    git(clone, "add", "-A", "tests")
    git(clone, "commit", "--quiet", "-m", "broken")
    done = run_release(clone)
    assert done.returncode == 1
    assert "the tests failed" in done.stderr
    assert not list(clone.glob("dist/*.whl"))


def test_release_refuses_an_untracked_module(clone: Path) -> None:
    # The build would pack it into the wheel although the tag does not hold it.
    set_version(clone, "1.0.1")
    (clone / "voxtrald" / "stray.py").write_text("SECRET = 1\n")
    done = run_release(clone, "--skip-tests")
    assert done.returncode == 1
    assert "untracked" in done.stderr and "voxtrald/stray.py" in done.stderr
    assert not (clone / "dist").exists()


def test_ignored_files_do_not_make_the_tree_dirty(clone: Path) -> None:
    set_version(clone, "1.0.1")
    (clone / "voxtrald" / "__pycache__").mkdir(exist_ok=True)
    (clone / "voxtrald" / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"")
    release.check_clean(clone)


@pytest.mark.skipif(not HAS_BUILD, reason="the 'build' package is needed")
def test_the_wheel_is_built_from_the_sdist(clone: Path) -> None:
    # A module the sdist leaves out must be missing from the wheel as well:
    # that is what building the wheel from the sdist proves.
    (clone / "MANIFEST.in").write_text("exclude voxtrald/updates/routes.py\n")
    git(clone, "add", "MANIFEST.in")
    git(clone, "commit", "--quiet", "-m", "manifest")
    set_version(clone, "1.0.1")
    done = run_release(clone, "--skip-tests")
    assert done.returncode == 0, done.stdout + done.stderr
    with zipfile.ZipFile(clone / "dist" / "voxtral-1.0.1-py3-none-any.whl") as zf:
        in_wheel = {n for n in zf.namelist() if n.endswith(".py")}
    with tarfile.open(clone / "dist" / "voxtral-1.0.1.tar.gz") as tf:
        in_sdist = {n.split("/", 1)[1] for n in tf.getnames() if n.endswith(".py")}
    assert "voxtrald/service/_systemd.py" in in_wheel
    assert "voxtrald/updates/routes.py" not in in_sdist
    assert in_wheel <= in_sdist
