"""Intake decisions, through a real job store and real folders, without a daemon."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from voxtrald import config
from voxtrald.config import Config
from voxtrald.events import EventLog
from voxtrald.files import hashing
from voxtrald.jobs.disposal import Disposal
from voxtrald.jobs.intake import Intake
from voxtrald.store.jobs import JobStore


class Parts:
    def __init__(self, tmp_path: Path) -> None:
        (tmp_path / "none.toml").write_text("")
        self.cfg: Config = config.load(
            tmp_path / "none.toml",
            {"paths.inbox": tmp_path / "Inbox", "paths.state_dir": tmp_path / "state"})
        self.cfg.paths.inbox.mkdir()
        self.store = JobStore(tmp_path / "state" / "jobs.sqlite3")
        self.events = EventLog()
        self.woken = 0
        self.intake = Intake(self.store, self.cfg, self.events, Disposal(self.store, self.cfg),
                             self._wake)

    def _wake(self) -> None:
        self.woken += 1


@pytest.fixture
def parts(tmp_path: Path) -> Parts:
    return Parts(tmp_path)


def test_unreadable_file_is_failed_with_the_reason_and_set_aside(
    parts: Parts, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Root reads any file, so the permission error is forced where the file is read.
    def denied(path: Path) -> str:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(hashing, "sha256_of", denied)
    source = parts.cfg.paths.inbox / "locked.wav"
    source.write_bytes(b"RIFF....")
    parts.intake.take(source)
    (job,) = parts.store.list()
    assert job.state == "failed" and job.error and "permission denied" in job.error
    failed = parts.cfg.paths.failed
    assert (failed / "locked.wav").exists() and not source.exists()
    report = json.loads((failed / "locked.wav.error.json").read_text())
    assert report["error"] == job.error
    assert [e["type"] for e in parts.events.since(0)["events"]] == ["job_failed"]


def test_new_audio_is_queued_and_wakes_the_scheduler_once(parts: Parts) -> None:
    source = parts.cfg.paths.inbox / "sub" / "talk.wav"
    source.parent.mkdir()
    source.write_bytes(b"some audio")
    parts.intake.take(source)
    (job,) = parts.store.list()
    assert (job.state, job.rel_dir, job.file) == ("queued", "sub", "talk.wav")
    assert parts.woken == 1
    assert parts.intake.is_known(source, source.stat())


def test_the_same_audio_under_another_name_is_a_duplicate_moved_on(parts: Parts) -> None:
    inbox = parts.cfg.paths.inbox
    (inbox / "a.wav").write_bytes(b"same bytes")
    (inbox / "b.wav").write_bytes(b"same bytes")
    parts.intake.take(inbox / "a.wav")
    first = parts.store.list("queued")[0]
    parts.store.start(first.id)
    parts.store.finish(first.id, [], 1.0, 1.0, "en")
    parts.intake.take(inbox / "b.wav")
    dup = parts.store.list("duplicate")[0]
    assert dup.file == "b.wav" and dup.duplicate_of == first.id
    moved = parts.cfg.paths.processed / "b.wav"
    assert moved.exists() and not (inbox / "b.wav").exists()
    assert parts.store.get(dup.id).source_path == str(moved)  # type: ignore[union-attr]
    assert parts.woken == 1  # a duplicate is no new work


def test_an_empty_file_fails_unless_a_download_is_still_running(parts: Parts) -> None:
    inbox = parts.cfg.paths.inbox
    (inbox / "later.mp3").write_bytes(b"")
    (inbox / "later.mp3.part").write_bytes(b"partial")
    parts.intake.take(inbox / "later.mp3")
    assert parts.store.list() == []
    (inbox / "empty.wav").write_bytes(b"")
    parts.intake.take(inbox / "empty.wav")
    (job,) = parts.store.list()
    assert job.state == "failed" and job.error == "the file is empty (0 bytes)"
    assert (parts.cfg.paths.failed / "empty.wav.error.json").exists()


def test_a_link_in_the_inbox_is_set_aside_unread_with_the_reason(
    parts: Parts, tmp_path: Path
) -> None:
    secret = tmp_path / "private.wav"
    secret.write_bytes(b"a recording only this user may read")
    link = parts.cfg.paths.inbox / "x.wav"
    link.symlink_to(secret)
    parts.intake.take(link)
    (job,) = parts.store.list()
    assert job.state == "failed" and job.sha256 is None
    assert job.error and "links are not followed" in job.error
    aside = parts.cfg.paths.failed / "x.wav"
    assert aside.is_symlink() and not link.exists() and not link.is_symlink()
    assert secret.read_bytes() == b"a recording only this user may read"


def test_a_file_swapped_for_a_link_between_the_look_and_the_read_is_refused(
    parts: Parts, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = tmp_path / "private.wav"
    secret.write_bytes(b"secret")
    source = parts.cfg.paths.inbox / "swap.wav"
    source.write_bytes(b"innocent audio")
    real_open = hashing.open_regular

    def swap_then_open(path: Path):  # type: ignore[no-untyped-def]
        path.unlink()
        path.symlink_to(secret)  # the attacker's move, at the worst moment
        return real_open(path)

    monkeypatch.setattr(hashing, "open_regular", swap_then_open)
    parts.intake.take(source)
    (job,) = parts.store.list()
    assert job.state == "failed" and job.error and "links are not followed" in job.error


def test_hashing_refuses_a_pipe_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.wav"
    os.mkfifo(fifo)
    with pytest.raises(hashing.NotRegular):
        hashing.sha256_of(fifo)  # would block for good if opened for reading plainly
