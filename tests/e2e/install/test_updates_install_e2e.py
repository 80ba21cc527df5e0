# ruff: noqa: F811 - pytest fixtures imported from tests.support.install_rig are parameters here
"""The pieces of a side-by-side install, each with real files, stores and processes.

The tests that start real processes; those that start none are in
tests/unit/install/test_updates_install.py.
"""

from __future__ import annotations

import os
import shutil
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import tmpfs
from tests.support.install_rig import _wheel_needing, fake_version, root  # noqa: F401 - fixtures
from voxtrald.files.hashing import sha256_file
from voxtrald.install import envbuild, record, trial
from voxtrald.install.layout import InstallRoot
from voxtrald.version import current_version

ME = current_version()


needs_sh = pytest.mark.skipif(shutil.which("sh") is None, reason="the fake versions are "
                              "shell scripts")


@pytest.fixture
def signals() -> Iterator[None]:
    """The trial supervisor installs signal handlers; give pytest its own back."""
    saved = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)


def _trial(root: InstallRoot, tmp_path: Path, program: str, timeout: float) -> dict:
    fake_version(root, ME)
    fake_version(root, "99.0.0", program)
    root.switch(ME)
    entry = {"version": "99.0.0", "previous": ME, "state_dir": str(tmp_path / "state"),
             "socket": str(tmp_path / "nobody.sock"), "timeout": timeout, "starts": 1}
    record.update(root, lambda s: s.update(trial=entry))
    record.write_pending(root, ME)
    return entry


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 40 MB tmpfs (needs root; skipped otherwise): a disk that fills up."""
    with tmpfs(tmp_path / "small", "size=40m") as folder:
        yield folder


@needs_sh
def test_a_version_that_never_becomes_healthy_is_stopped_and_rolled_back(
        root: InstallRoot, tmp_path: Path, signals: None) -> None:
    marker = tmp_path / "child.pid"
    entry = _trial(root, tmp_path, f"echo $$ > {marker}; exec sleep 60", timeout=3)
    reason = trial.watch(root, entry, ["run"])
    assert reason is not None and "did not report healthy within 3 s" in reason
    assert "control socket does not answer" in reason
    pid = int(marker.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # stopped, not left behind
    assert root.current() == "99.0.0"  # until the rollback puts the previous one back
    trial._fail(root, entry, reason)
    assert root.current() == ME and root.pending() is None
    state = record.load(root)
    assert state["failed"]["99.0.0"]["reason"] == reason
    assert state["trial"] is None and state["rolled_back"]["previous"] == ME


@needs_sh
def test_a_version_that_exits_at_once_fails_its_trial_without_waiting(
        root: InstallRoot, tmp_path: Path, signals: None) -> None:
    entry = _trial(root, tmp_path, "exit 3", timeout=60)
    reason = trial.watch(root, entry, ["run"])
    assert reason is not None and "exited during its first start" in reason
    assert "3" in reason


def test_offline_install_is_a_clear_error_that_leaves_nothing(
        root: InstallRoot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    for name in ("PIP_FIND_LINKS", "PIP_EXTRA_INDEX_URL", "PIP_CONSTRAINT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_INDEX_URL", f"http://127.0.0.1:{port}/simple")
    monkeypatch.setenv("PIP_RETRIES", "0")
    monkeypatch.setenv("PIP_TIMEOUT", "2")
    wheel = _wheel_needing("voxtral-probe-dependency-not-installed>=1", tmp_path)
    # Seeded from this environment (numpy is here), but the new dependency is not.
    with pytest.raises(envbuild.EnvError) as caught:
        envbuild.build(root, "9.0.0", wheel, sha256_file(wheel))
    assert caught.value.code == "offline", caught.value
    assert "package index (offline?)" in str(caught.value)
    assert not root.version_dir("9.0.0").exists() and root.versions() == []


def test_full_disk_during_install_is_a_clear_error_that_leaves_nothing(
        small_disk: Path, tmp_path: Path) -> None:
    root = InstallRoot(small_disk / "install")
    root.path.mkdir()
    wheel = _wheel_needing("numpy", tmp_path)  # seeding numpy needs more than 40 MB
    with pytest.raises(envbuild.EnvError) as caught:
        envbuild.build(root, "9.0.0", wheel, sha256_file(wheel))
    assert caught.value.code == "disk_full", caught.value
    assert "disk is full" in str(caught.value)
    assert not root.version_dir("9.0.0").exists() and root.versions() == []
