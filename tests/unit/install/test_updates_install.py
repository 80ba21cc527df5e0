"""The pieces of a side-by-side install, each with real files, stores and processes."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import sqlite3
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import tmpfs
from voxtrald.install import envbuild, record, rollback, storecopy, trial
from voxtrald.install.layout import COMPLETE, InstallRoot, Kind, LayoutError, detect, scripts_dir
from voxtrald.states import JobState
from voxtrald.store.jobs import JobStore
from voxtrald.store.migrations import SCHEMA_VERSION
from voxtrald.version import current_version

ME = current_version()
needs_sh = pytest.mark.skipif(shutil.which("sh") is None, reason="the fake versions are "
                              "shell scripts")


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


def test_current_is_switched_in_one_step_and_only_to_complete_versions(root: InstallRoot) -> None:
    fake_version(root, "1.0.0")
    fake_version(root, "1.1.0")
    root.versions_dir.joinpath("1.2.0").mkdir()  # half-built: no completion mark
    root.switch("1.0.0")
    assert root.current() == "1.0.0" and root.versions() == ["1.0.0", "1.1.0"]
    root.switch("1.1.0")
    assert os.readlink(root.current_link) == "versions/1.1.0"
    with pytest.raises(LayoutError, match="not completely installed"):
        root.switch("1.2.0")
    with pytest.raises(LayoutError, match="not a version"):
        root.version_dir("../../etc")
    assert root.current() == "1.1.0"
    assert [p.name for p in root.path.iterdir() if p.name.startswith(".current")] == []


def test_pending_names_only_plain_versions(root: InstallRoot) -> None:
    record.write_pending(root, "1.0.0")
    assert root.pending() == "1.0.0"
    root.pending_file.write_text("../../bin\n")
    assert root.pending() is None
    record.write_pending(root, None)
    assert not root.pending_file.exists()


def test_detect_tells_the_kinds_apart(root: InstallRoot, tmp_path: Path) -> None:
    fake_version(root, "1.0.0")
    running = detect(prefix=root.version_dir("1.0.0"))
    assert running.kind == Kind.ROOT and running.root == root
    import voxtrald

    here = detect(prefix=tmp_path, package_dir=Path(voxtrald.__file__).resolve().parent)
    assert here.kind == Kind.CHECKOUT
    other = detect(prefix=tmp_path, package_dir=tmp_path / "site" / "voxtrald")
    assert other.kind == Kind.OTHER


def test_damaged_install_state_is_a_fresh_start(root: InstallRoot) -> None:
    root.state_file.write_text('{"failed": {"1.2.0": {"reason": "x"}, "../x": {}}, '
                               '"trial": {"version": "../../x", "previous": "1.0.0"}}')
    state = record.load(root)
    assert list(state["failed"]) == ["1.2.0"] and state["trial"] is None
    root.state_file.write_text("{broken")
    assert record.load(root)["failed"] == {}


def _newer_schema(path: Path, rows: list[tuple[str, str]]) -> None:
    """What a newer version does to the store: a new column, a new table, more jobs."""
    db = sqlite3.connect(path)
    db.execute("ALTER TABLE jobs ADD COLUMN priority INTEGER NOT NULL DEFAULT 0")
    db.execute("CREATE TABLE labels (job_id INTEGER, label TEXT)")
    for name, state in rows:
        db.execute("INSERT INTO jobs (source_path, file, state, max_attempts, created_at, "
                   "priority) VALUES (?, ?, ?, 3, 0, 7)", (f"/in/{name}", name, state))
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.commit()
    db.close()


def test_rollback_carries_jobs_into_a_store_the_old_version_reads(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    state_dir.mkdir()
    store = JobStore(state_dir / "jobs.sqlite3")
    store.close()
    db = sqlite3.connect(state_dir / "jobs.sqlite3")
    db.execute("INSERT INTO jobs (source_path, file, state, max_attempts, created_at) "
               "VALUES ('/in/before.wav', 'before.wav', 'done', 3, 0)")
    db.commit()
    db.close()
    saved = tmp_path / "backups" / "jobs-1.0.0.sqlite3"
    assert storecopy.backup(state_dir, saved)
    # The new version migrates, finishes one file and queues another, then fails.
    _newer_schema(state_dir / "jobs.sqlite3", [("during.wav", "done"), ("queued.wav", "queued"),
                                               ("odd.wav", "some_new_state")])
    states = [s.value for s in JobState]
    assert storecopy.restore_for(state_dir, saved, SCHEMA_VERSION, states) == "carried"
    assert storecopy.schema_version(state_dir / "jobs.sqlite3") == SCHEMA_VERSION
    store = JobStore(state_dir / "jobs.sqlite3")  # the old code opens it without complaint
    try:
        files = sorted((j.file, j.state.value) for j in store.list(None, 100))
    finally:
        store.close()
    assert files == [("before.wav", "done"), ("during.wav", "done"), ("queued.wav", "queued")]
    assert not (state_dir / "jobs.sqlite3-wal").exists()
    assert [p.name for p in state_dir.iterdir() if "tmp" in p.name] == []
    # The same schema: nothing to restore, the live store is kept as it is.
    assert storecopy.restore_for(state_dir, saved, SCHEMA_VERSION, states) == "kept"


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


@needs_sh
@pytest.mark.e2e  # starts processes
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
@pytest.mark.e2e  # starts processes
def test_a_version_that_exits_at_once_fails_its_trial_without_waiting(
        root: InstallRoot, tmp_path: Path, signals: None) -> None:
    entry = _trial(root, tmp_path, "exit 3", timeout=60)
    reason = trial.watch(root, entry, ["run"])
    assert reason is not None and "exited during its first start" in reason
    assert "3" in reason


def test_rollback_by_hand_finds_the_previous_version(root: InstallRoot) -> None:
    fake_version(root, "1.0.0")
    fake_version(root, "1.1.0")
    fake_version(root, "1.2.0")
    assert rollback.previous_of(root, "1.2.0") == "1.1.0"
    record.update(root, lambda s: s.update(applied={"version": "1.2.0", "previous": "1.0.0"}))
    assert rollback.previous_of(root, "1.2.0") == "1.0.0"
    assert rollback.previous_of(root, "1.0.0") is None
    rollback.prune(root, {"1.2.0", "1.0.0"})
    assert root.versions() == ["1.0.0", "1.2.0"]


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


@pytest.mark.e2e  # starts pip
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
        envbuild.build(root, "9.0.0", wheel, "0" * 64)
    assert caught.value.code == "offline", caught.value
    assert "package index (offline?)" in str(caught.value)
    assert not root.version_dir("9.0.0").exists() and root.versions() == []


def test_seeding_takes_only_what_the_new_version_needs(tmp_path: Path) -> None:
    wheel = _wheel_needing("packaging>=20", tmp_path)
    target = tmp_path / "site"
    copied = envbuild.seed(target, envbuild.running_site_packages(),
                           envbuild.wheel_requirements(wheel))
    assert copied > 0
    names = {p.name.split("-")[0].lower() for p in target.glob("*.dist-info")}
    assert names == {"packaging"}
    assert sys.modules["packaging"].__file__ is not None


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 40 MB tmpfs (needs root; skipped otherwise): a disk that fills up."""
    with tmpfs(tmp_path / "small", "size=40m") as folder:
        yield folder


@pytest.mark.e2e  # starts a process
def test_full_disk_during_install_is_a_clear_error_that_leaves_nothing(
        small_disk: Path, tmp_path: Path) -> None:
    root = InstallRoot(small_disk / "install")
    root.path.mkdir()
    wheel = _wheel_needing("numpy", tmp_path)  # seeding numpy needs more than 40 MB
    with pytest.raises(envbuild.EnvError) as caught:
        envbuild.build(root, "9.0.0", wheel, "0" * 64)
    assert caught.value.code == "disk_full", caught.value
    assert "disk is full" in str(caught.value)
    assert not root.version_dir("9.0.0").exists() and root.versions() == []
