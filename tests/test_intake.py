"""Intake decisions that a root test run cannot provoke for real, forced on purpose."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from voxtrald import config, sources
from voxtrald.daemon import Daemon
from voxtrald.jobs import JobStore


@pytest.fixture
def daemon(tmp_path: Path) -> Daemon:
    (tmp_path / "none.toml").write_text("")
    cfg = config.load(tmp_path / "none.toml",
                      {"paths.inbox": tmp_path / "Inbox", "paths.state_dir": tmp_path / "state"})
    cfg.paths.inbox.mkdir()
    d = Daemon(cfg)
    d.store = JobStore(tmp_path / "state" / "jobs.sqlite3")
    return d


def test_unreadable_file_is_failed_with_the_reason_and_set_aside(
    daemon: Daemon, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Root reads any file, so the permission error is forced where the file is read.
    def denied(path: Path) -> str:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(sources, "sha256_of", denied)
    source = daemon.cfg.paths.inbox / "locked.wav"
    source.write_bytes(b"RIFF....")
    daemon._intake(source)
    assert daemon.store is not None
    (job,) = daemon.store.list()
    assert job["state"] == "failed" and "permission denied" in job["error"]
    failed = daemon.cfg.paths.failed
    assert (failed / "locked.wav").exists() and not source.exists()
    report = json.loads((failed / "locked.wav.error.json").read_text())
    assert report["error"] == job["error"]
    assert [e["type"] for e in daemon.events.since(0)["events"]] == ["job_failed"]
