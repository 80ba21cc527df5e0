"""Edge cases of a job's life that once went wrong, each through real store and folders.

A scripted worker stands in for the model, so each case can put the failure
exactly where it hurts: a disk that fills, a file rewritten mid-run, a copy
queued beside its original, a model that will not load, a flaky network folder.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.fake_worker import chunked
from tests.support.job_rig import Rig
from tests.support.waiting import wait_for
from voxtrald.api.control import Control
from voxtrald.engine.audio import DecodeStats, MediaError, decode_blocks
from voxtrald.inbox.watcher import Inbox
from voxtrald.transcripts import outputs
from voxtrald.worker import protocol as wp

DATA = Path(__file__).resolve().parents[2] / "data"


def content_script(req: wp.Transcribe) -> list[wp.Reply | None]:
    """A worker that 'hears' the file's bytes, so a test can tell which content ran."""
    return chunked(req.job_id, [f"text of {Path(req.path).read_bytes().decode()}"],
                   first=req.first_chunk)


@pytest.fixture
def make_rig(tmp_path: Path) -> Iterator[Any]:
    rigs: list[Rig] = []

    def make(script: Any = content_script, **settings: Any) -> Rig:
        root = tmp_path / f"r{len(rigs)}"
        root.mkdir()
        rig = Rig(root, script, **settings)
        rigs.append(rig)
        return rig

    yield make
    for rig in rigs:
        rig.close()


def control_for(rig: Rig) -> Control:
    return Control(rig.cfg, rig.store, rig.scheduler, rig.current, rig.events, dict,
                   lambda: None, lambda: None, list)


def fill_disk_for(monkeypatch: pytest.MonkeyPatch, writes: int) -> None:
    real = outputs.write_transcripts
    left = {"n": writes}

    def write(*args: Any, **kw: Any) -> list[Path]:
        if left["n"] > 0:
            left["n"] -= 1
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(*args, **kw)

    monkeypatch.setattr(outputs, "write_transcripts", write)


# -- transcript names -------------------------------------------------------------------


def test_a_name_reserved_by_a_job_that_could_not_write_is_not_given_to_another(
    make_rig: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    rig = make_rig(**{"jobs.max_attempts": 2})
    first = rig.drop("talk.wav", b"audio A")
    fill_disk_for(monkeypatch, 1)
    assert rig.run_next().state == "queued" and rig.job(first.id).output_stem == "talk"
    second = rig.drop("talk.mp3", b"audio B")  # space freed meanwhile; B runs first
    rig.runner.run(rig.job(second.id))
    out = rig.cfg.paths.transcripts
    assert rig.job(second.id).output_stem == "talk-2"
    assert (out / "talk-2.txt").read_text() == "text of audio B\n"
    fill_disk_for(monkeypatch, 1)  # A's last attempt fails too, for good
    assert rig.run_next().state == "failed"
    assert (out / "talk-2.txt").read_text() == "text of audio B\n"  # B's stay


def test_a_retried_job_never_writes_over_another_sources_transcripts(
    make_rig: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    rig = make_rig(**{"jobs.max_attempts": 1})
    first = rig.drop("talk.wav", b"audio A")
    fill_disk_for(monkeypatch, 1)
    assert rig.run_next().state == "failed"
    second = rig.drop("talk.mp3", b"audio B")
    assert rig.run_next().state == "done"
    control_for(rig).retry_job(first.id)
    assert rig.run_next().state == "done"
    a, b = rig.job(first.id), rig.job(second.id)
    assert set(a.outputs).isdisjoint(b.outputs)
    assert (rig.cfg.paths.transcripts / f"{b.output_stem}.txt").read_text() == \
        "text of audio B\n"


# -- content that changes ---------------------------------------------------------------


def test_a_copy_queued_beside_its_original_is_not_lost_when_the_original_changes(
    make_rig: Any,
) -> None:
    rig = make_rig(**{"jobs.after": "delete"})
    take = rig.drop("take.wav", b"the interview")
    backup = rig.drop("interview backup.wav", b"the interview")
    assert rig.job(backup.id).state == "queued"  # not thrown away while its twin waits
    (rig.cfg.paths.inbox / "take.wav").write_bytes(b"the next take")
    rig.intake.take(rig.cfg.paths.inbox / "take.wav")  # the recorder reused the name
    assert rig.run_next().id == take.id
    done = rig.run_next()
    assert done.id == backup.id and done.state == "done"


def test_a_copy_whose_original_finished_first_is_a_duplicate_when_its_turn_comes(
    make_rig: Any,
) -> None:
    rig = make_rig()
    first = rig.drop("a.wav", b"same audio")
    copy = rig.drop("b.wav", b"same audio")
    assert rig.run_next().id == first.id
    dup = rig.run_next()
    assert dup.id == copy.id and dup.state == "duplicate" and dup.duplicate_of == first.id
    assert len(rig.worker.submitted) == 1
    assert (rig.cfg.paths.processed / "b.wav").exists()


def test_retry_after_the_user_replaced_the_file_starts_over(make_rig: Any) -> None:
    calls: list[wp.Transcribe] = []

    def crash_first(req: wp.Transcribe) -> list[wp.Reply | None]:
        calls.append(req)
        content = Path(req.path).read_bytes().decode()
        return chunked(req.job_id, [f"{content} {i}" for i in range(3)],
                       first=req.first_chunk, crash_after=2 if len(calls) == 1 else None)

    rig = make_rig(crash_first, **{"jobs.max_attempts": 1})
    job = rig.drop("long.wav", b"damaged copy")
    assert rig.run_next().state == "failed"
    (rig.cfg.paths.failed / "long.wav").write_bytes(b"good copy")  # as the README says
    control_for(rig).retry_job(job.id)
    assert rig.run_next().state == "done"
    assert calls[1].start_at == 0.0
    assert (rig.cfg.paths.transcripts / "long.txt").read_text() == \
        "good copy 0\ngood copy 1\ngood copy 2\n"


def test_chunks_of_content_replaced_mid_run_are_not_resumed_over_the_new(make_rig: Any) -> None:
    calls: list[wp.Transcribe] = []

    def rewrite_mid_run(req: wp.Transcribe) -> list[wp.Reply | None]:
        calls.append(req)
        path = Path(req.path)
        heard = path.read_bytes().decode()
        if len(calls) == 1:
            path.write_bytes(b"version 2, another recording")
            rig.intake.take(path)  # the inbox saw it settle again
            return chunked(req.job_id, [f"{heard} {i}" for i in range(3)], crash_after=2)
        return chunked(req.job_id, [f"{heard} {i}" for i in range(3)], first=req.first_chunk)

    rig = make_rig(rewrite_mid_run)
    job = rig.drop("memo.m4a", b"version 1")
    assert rig.run_next().state == "queued"
    assert rig.store.chunks(job.id) == []
    assert rig.run_next().state == "done"
    assert "version 1" not in (rig.cfg.paths.transcripts / "memo.txt").read_text()


def test_a_touch_during_the_run_keeps_the_finished_work(make_rig: Any) -> None:
    def touch(req: wp.Transcribe) -> list[wp.Reply | None]:
        path = Path(req.path)
        os.utime(path)  # a sync client or an editor: the time moves, not the bytes
        rig.intake.take(path)
        return chunked(req.job_id, ["a", "b"], first=req.first_chunk)

    rig = make_rig(touch)
    rig.drop("two hours.wav")
    after = rig.run_next()
    assert after.state == "done" and len(rig.worker.submitted) == 1


def test_content_that_grew_at_the_end_of_a_run_is_redone_under_its_own_hash(
    make_rig: Any,
) -> None:
    runs: list[wp.Transcribe] = []

    def grow(req: wp.Transcribe) -> list[wp.Reply | None]:
        runs.append(req)
        path = Path(req.path)
        heard = path.read_bytes().decode()
        if len(runs) == 1:
            path.write_bytes(b"the recorder went on: the whole meeting")
        return chunked(req.job_id, [heard])

    rig = make_rig(grow)
    rig.drop("meeting.wav", b"first minutes")
    assert rig.run_next().state == "queued"
    done = rig.run_next()
    assert done.state == "done"
    assert done.sha256 == hashlib.sha256(b"the recorder went on: the whole meeting").hexdigest()


# -- faults that are not the file's -----------------------------------------------------


def test_a_model_that_cannot_load_sends_no_file_to_failed(make_rig: Any) -> None:
    rig = make_rig()
    jobs = [rig.drop(f"{n}.wav", n.encode()) for n in ("a", "b")]
    rig.worker.fail_start = "cannot load model 'default': model.bin does not match its pin"
    for _ in range(6):
        rig.run_next()
    assert {str(rig.job(j.id).state) for j in jobs} == {"queued"}
    assert all((rig.cfg.paths.inbox / j.file).exists() for j in jobs)


def test_a_network_folder_gone_for_a_moment_is_not_a_file_gone_for_good(
    make_rig: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    rig = make_rig()
    rig.drop("talk.wav")
    real = Path.lstat

    def flaky(self: Path) -> os.stat_result:
        if self.name == "talk.wav":
            raise OSError(errno.EIO, "Input/output error")
        return real(self)

    monkeypatch.setattr(Path, "lstat", flaky)
    after = rig.run_next()
    monkeypatch.undo()
    assert after.state == "queued" and after.error and "Input/output error" in after.error
    assert rig.run_next().state == "done"


def test_a_progress_figure_that_cannot_be_written_costs_nothing(
    make_rig: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    rig = make_rig(lambda req: chunked(req.job_id, ["a", "b", "c"], first=req.first_chunk))
    job = rig.drop("long.wav")
    real = rig.store.progress
    calls = {"n": 0}

    def progress(*args: Any, **kw: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise sqlite3.OperationalError("database is locked")
        real(*args, **kw)

    monkeypatch.setattr(rig.store, "progress", progress)
    after = rig.run_next()
    assert after.state == "done" and after.attempts == 1 and rig.worker.stops == 0
    assert calls["n"] >= 1 and rig.job(job.id).error is None


def test_a_scheduler_hung_after_a_job_goes_stale(make_rig: Any) -> None:
    rig = make_rig()
    rig.heartbeat.limit = 0.5
    hang = threading.Event()
    first = rig.drop("a.wav", b"a")
    rig.scheduler.start()
    wait_for(lambda: rig.job(first.id).state == "done", 10, "the first job")

    def stuck() -> str | None:  # the next round blocks on a hung network mount
        hang.wait()
        return None

    rig.scheduler.hold_reason = stuck
    rig.drop("b.wav", b"b")
    rig.scheduler.wake()
    try:
        wait_for(lambda: not rig.heartbeat.fresh(), 10, "the heartbeat to go stale")
    finally:
        hang.set()


def test_a_scan_that_fails_is_not_retried_at_every_tick(
    make_rig: Any, caplog: pytest.LogCaptureFixture
) -> None:
    rig = make_rig()
    (rig.cfg.paths.inbox / "waiting.wav").write_bytes(b"a")

    def broken(path: Path, st: os.stat_result) -> bool:
        raise sqlite3.OperationalError("disk I/O error")

    inbox = Inbox(rig.cfg.paths.inbox, 0.1, rig.intake.take, broken, scan_interval=30.0)
    caplog.set_level(logging.ERROR, logger="voxtrald.inbox.watcher")
    inbox.start()
    try:
        time.sleep(2.0)
    finally:
        inbox.stop()
    assert sum(1 for r in caplog.records if r.exc_info) <= 2


# -- what the worker reads --------------------------------------------------------------


def test_the_decoder_reads_no_link_and_no_pipe(tmp_path: Path) -> None:
    link = tmp_path / "x.wav"
    link.symlink_to(DATA / "fox.wav")
    with pytest.raises(MediaError, match="link"):
        sum(b.size for b in decode_blocks(link, DecodeStats()))
    fifo = tmp_path / "pipe.wav"
    os.mkfifo(fifo)
    with pytest.raises(MediaError, match="not a regular file"):
        sum(b.size for b in decode_blocks(fifo, DecodeStats()))  # and does not block
    stats = DecodeStats()
    assert sum(b.size for b in decode_blocks(DATA / "fox.wav", stats)) > 0
    assert stats.sha256 == hashlib.sha256((DATA / "fox.wav").read_bytes()).hexdigest()


def test_a_job_recorded_done_reads_done_while_the_scheduler_still_holds_it(make_rig: Any) -> None:
    """Between the store's "done" and the scheduler letting go of its current job, the API
    shows the record (100 %), not the last live figure (99.9 %)."""
    rig = make_rig()
    job = rig.drop("a.wav")
    assert rig.run_next().state == "done"
    rig.current.begin(rig.job(job.id))  # as in the moment before the scheduler clears it
    rig.current.update(99.9, 0.1)
    control = control_for(rig)
    shown = control.get_job(job.id)
    assert shown is not None and (shown["state"], shown["percent"]) == ("done", 100)
    assert [j["percent"] for j in control.list_jobs(None, 10)] == [100]
