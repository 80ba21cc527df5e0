"""Cancelling one job: queued, running, or too late, through the real store and folders.

A scripted worker stands in for the model; it can go quiet mid-file, so a
cancel meets a job that is really running, with a chunk already checkpointed.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.fake_worker import chunked
from tests.support.job_rig import Rig
from tests.support.waiting import wait_for
from voxtrald.api.control import Control
from voxtrald.jobs.errors import JobNotFound, NotCancellable
from voxtrald.worker import protocol as wp


def control_for(rig: Rig) -> Control:
    return Control(rig.cfg, rig.store, rig.scheduler, rig.current, rig.events, dict,
                   lambda: None, lambda: None, list)


def first_chunk_then_silence(req: wp.Transcribe) -> list[wp.Reply | None]:
    """A long file: its first chunk is finished, then the worker works on (says nothing)."""
    return chunked(req.job_id, ["one", "two", "three"])[:4]


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    r = Rig(tmp_path, lambda req: chunked(req.job_id, ["words"]))
    yield r
    r.close()


def events(rig: Rig, kind: str) -> list[dict[str, Any]]:
    return [e["data"] for e in rig.events.since(0)["events"] if e["type"] == kind]


def test_a_queued_job_cancelled_never_starts_and_its_file_stays(rig: Rig) -> None:
    job = rig.drop("skip.wav", b"audio to skip")
    source = rig.cfg.paths.inbox / "skip.wav"
    before = source.stat()
    cancelled = control_for(rig).cancel_job(job.id)
    assert cancelled["state"] == "cancelled" and cancelled["finished_at"] is not None
    assert events(rig, "job_cancelled") == [{"id": job.id, "file": "skip.wav", "was": "queued"}]
    rig.runner.run(job)  # the scheduler had taken it a moment before: it does not start
    assert rig.worker.submitted == [] and rig.job(job.id).state == "cancelled"
    assert source.read_bytes() == b"audio to skip" and source.stat().st_mtime == before.st_mtime
    assert not any(rig.cfg.paths.transcripts.iterdir())
    # The unchanged file is not taken again; once changed, it is new work.
    assert rig.intake.is_known(source, source.stat())
    source.write_bytes(b"another take")
    assert not rig.intake.is_known(source, source.stat())
    rig.intake.take(source)
    assert rig.store.list()[0].id != job.id and rig.store.list()[0].state == "queued"


def test_a_running_job_cancelled_stops_its_worker_and_drops_its_chunks(rig: Rig) -> None:
    rig.worker.script = first_chunk_then_silence
    job = rig.drop("long.wav")
    runner = threading.Thread(target=rig.run_next)
    runner.start()
    wait_for(lambda: rig.store.chunks(job.id), 10, "the first chunk to be checkpointed")
    assert rig.current.snapshot() is not None
    cancelled = control_for(rig).cancel_job(job.id)
    assert cancelled["state"] == "cancelled"
    assert rig.current.snapshot() is None  # no longer shown as transcribing
    runner.join(10)
    assert not runner.is_alive() and rig.worker.stops == 1 and not rig.worker.alive()
    after = rig.job(job.id)
    assert after.state == "cancelled" and after.finished_at is not None
    assert rig.store.chunks(job.id) == []
    assert (rig.cfg.paths.inbox / "long.wav").exists()
    assert not any(rig.cfg.paths.transcripts.iterdir())
    assert [e["type"] for e in rig.events.since(0)["events"]] == ["job_started", "job_cancelled"]
    assert events(rig, "job_cancelled")[0]["was"] == "running"


def test_a_cancelled_job_is_transcribed_anyway_when_retried(rig: Rig) -> None:
    job = rig.drop("later.wav")
    control = control_for(rig)
    control.cancel_job(job.id)
    assert control.cancel_job(job.id)["state"] == "cancelled"  # again: answered as it is
    assert len(events(rig, "job_cancelled")) == 1
    assert control.retry_job(job.id)["state"] == "queued"
    done = rig.run_next()
    assert done.state == "done" and (rig.cfg.paths.transcripts / "later.txt").exists()


def test_a_job_that_ended_cannot_be_cancelled(rig: Rig) -> None:
    control = control_for(rig)
    done = rig.drop("done.wav")
    rig.run_next()
    failed = rig.drop("empty.wav", b"")
    assert rig.job(failed.id).state == "failed"
    for job_id, state in ((done.id, "done"), (failed.id, "failed")):
        with pytest.raises(NotCancellable, match=f"is {state}; only queued or running"):
            control.cancel_job(job_id)
        assert rig.job(job_id).state == state
    with pytest.raises(JobNotFound):
        control.cancel_job(999)
    assert events(rig, "job_cancelled") == []


def test_a_cancel_while_the_job_is_being_recorded_done_waits_and_is_refused(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Never both: the end being recorded finishes first, then the cancel finds it done."""
    entered, release = threading.Event(), threading.Event()
    real = rig.outcomes.complete

    def slow_complete(*args: Any, **kw: Any) -> None:
        entered.set()
        release.wait(10)
        real(*args, **kw)

    monkeypatch.setattr(rig.outcomes, "complete", slow_complete)
    job = rig.drop("race.wav")
    runner = threading.Thread(target=rig.run_next)
    runner.start()
    wait_for(entered.is_set, 10, "the job's end to be recorded")
    refused: list[Exception] = []

    def cancel() -> None:
        try:
            control_for(rig).cancel_job(job.id)
        except NotCancellable as exc:
            refused.append(exc)

    canceller = threading.Thread(target=cancel)
    canceller.start()
    canceller.join(0.3)
    assert canceller.is_alive()  # held until the end is recorded
    release.set()
    runner.join(10)
    canceller.join(10)
    assert rig.job(job.id).state == "done" and len(refused) == 1
    assert "is done" in str(refused[0])


def test_a_job_recorded_done_shows_its_100_percent_before_the_runner_lets_go(rig: Rig) -> None:
    job = rig.drop("quick.wav")
    done = rig.run_next()
    rig.current.begin(done)  # the moment between the job's end and the runner's return
    rig.current.update(99.9, 0.0)
    assert control_for(rig).get_job(job.id)["percent"] == 100  # type: ignore[index]
