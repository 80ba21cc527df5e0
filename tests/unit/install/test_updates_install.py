# ruff: noqa: F811 - pytest fixtures imported from tests.support.install_rig are parameters here
"""The pieces of a side-by-side install, each with real files, stores and processes."""

from __future__ import annotations

import os
import sqlite3
import sys
from pathlib import Path

import pytest

from tests.support.install_rig import _wheel_needing, fake_version, root  # noqa: F401 - fixtures
from voxtrald.install import envbuild, record, rollback, storecopy
from voxtrald.install.layout import InstallRoot, Kind, LayoutError, detect
from voxtrald.states import JobState
from voxtrald.store.jobs import JobStore
from voxtrald.store.migrations import SCHEMA_VERSION


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


def test_seeding_takes_only_what_the_new_version_needs(tmp_path: Path) -> None:
    wheel = _wheel_needing("packaging>=20", tmp_path)
    target = tmp_path / "site"
    copied = envbuild.seed(target, envbuild.running_site_packages(),
                           envbuild.wheel_requirements(wheel))
    assert copied > 0
    names = {p.name.split("-")[0].lower() for p in target.glob("*.dist-info")}
    assert names == {"packaging"}
    assert sys.modules["packaging"].__file__ is not None


