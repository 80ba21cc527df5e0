"""One job attempt end to end through real parts, with a worker that replies from a script."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.fake_worker import CRASH, chunked
from tests.support.job_rig import Rig
from voxtrald.jobs.disposal import Disposal
from voxtrald.worker import protocol as wp


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    holder: dict[str, Rig] = {}
    r = Rig(tmp_path, lambda req: holder["script"](req))  # type: ignore[operator]
    holder["rig"] = r
    yield r
    r.close()


def script(rig: Rig, fn: object) -> None:
    rig.worker.script = fn  # type: ignore[assignment]


def test_a_finished_job_writes_its_transcripts_and_moves_its_source(rig: Rig) -> None:
    script(rig, lambda req: chunked(req.job_id, ["bonjour", "au revoir"]))
    job = rig.drop("talk.wav")
    done = rig.run_next()
    assert done.state == "done" and done.language == "fr" and done.language_probability == 0.97
    assert done.duration == 120.0 and done.attempts == 1
    assert (rig.cfg.paths.transcripts / "talk.txt").read_text() == "bonjour\nau revoir\n"
    doc = json.loads((rig.cfg.paths.transcripts / "talk.json").read_text())
    assert doc["language"] == "fr" and doc["timing"]["chunks"] == 2
    assert (rig.cfg.paths.processed / "talk.wav").exists()
    assert rig.job(job.id).source_path == str(rig.cfg.paths.processed / "talk.wav")
    assert rig.event_types() == ["job_started", "job_done"]
    assert rig.store.chunks(job.id) == []  # checkpoints go once the job is done


def test_a_crash_mid_job_fails_the_attempt_and_the_retry_resumes_after_the_last_chunk(
    rig: Rig,
) -> None:
    texts = ["one", "two", "three"]
    attempts: list[wp.Transcribe] = []

    def crash_once(req: wp.Transcribe) -> list[wp.Reply | None]:
        attempts.append(req)
        crash = 2 if len(attempts) == 1 else None
        return chunked(req.job_id, texts, first=req.first_chunk, crash_after=crash)

    script(rig, crash_once)
    job = rig.drop("long.wav")
    before = time.time()
    failed = rig.run_next()
    assert failed.state == "queued" and failed.error == CRASH and failed.attempts == 1
    # The first retry waits the configured backoff (30 s by default) from the failure,
    # which came between `before` and now.
    assert before + 30 <= failed.next_attempt_at <= time.time() + 30
    assert [c.index for c in rig.store.chunks(job.id)] == [0, 1]
    done = rig.run_next()
    assert done.state == "done" and done.attempts == 2
    assert (attempts[1].start_at, attempts[1].first_chunk) == (120.0, 2)
    assert attempts[1].known_language == "fr"  # the language heard before the crash
    assert attempts[1].known_language_probability == 0.97
    assert attempts[1].options.language is None  # known, not forced
    text = (rig.cfg.paths.transcripts / "long.txt").read_text()
    assert text == "one\ntwo\nthree\n"
    doc = json.loads((rig.cfg.paths.transcripts / "long.json").read_text())
    assert doc["timing"]["resumed_at"] == 120.0
    assert [s["text"] for s in doc["segments"]] == texts


def test_failures_back_off_doubling_then_the_source_is_set_aside(rig: Rig) -> None:
    script(rig, lambda req: [wp.Failed(req.job_id, "decoder hiccup")])
    job = rig.drop("bad.wav")
    for backoff in (30, 60):  # doubling
        started = time.time()
        after = rig.run_next()
        assert after.state == "queued"
        assert started + backoff <= after.next_attempt_at <= time.time() + backoff
    final = rig.run_next()
    assert final.state == "failed" and final.attempts == 3 and final.error == "decoder hiccup"
    aside = rig.cfg.paths.failed / "bad.wav"
    assert aside.exists() and rig.job(job.id).source_path == str(aside)
    report = json.loads((rig.cfg.paths.failed / "bad.wav.error.json").read_text())
    assert report["attempts"] == 3 and report["error"] == "decoder hiccup"
    events = rig.events.since(0)["events"]
    finals = [e["data"]["final"] for e in events if e["type"] == "job_failed"]
    assert finals == [False, False, True]


def test_a_permanent_failure_is_final_at_once(rig: Rig) -> None:
    script(rig, lambda req: [wp.Failed(req.job_id, "not audio", permanent=True)])
    rig.drop("text.mp3")
    final = rig.run_next()
    assert final.state == "failed" and final.attempts == 1 and final.error == "not audio"
    assert (rig.cfg.paths.failed / "text.mp3").exists()


def test_a_reply_for_another_job_never_reaches_this_one(rig: Rig) -> None:
    def late_then_real(req: wp.Transcribe) -> list[wp.Reply | None]:
        stale = req.job_id + 100
        return [wp.ChunkDone(stale, 0, 60.0, chunked(stale, ["stale words"])[2].segments),
                wp.Done(stale, 60.0, 1), *chunked(req.job_id, ["fresh words"])]

    script(rig, late_then_real)
    rig.drop("a.wav")
    done = rig.run_next()
    assert done.state == "done"
    assert (rig.cfg.paths.transcripts / "a.txt").read_text() == "fresh words\n"


def test_a_stop_mid_job_requeues_it_without_counting_the_attempt(rig: Rig) -> None:
    def stop_midway(req: wp.Transcribe) -> list[wp.Reply | None]:
        rig.stopping.set()
        return chunked(req.job_id, ["a", "b"])[:3]

    script(rig, stop_midway)
    job = rig.drop("a.wav")
    after = rig.run_next()
    assert after.state == "queued" and after.attempts == 0
    assert rig.worker.stops == 1 and rig.job(job.id).error is None


def test_a_source_gone_before_its_run_fails_for_good(rig: Rig) -> None:
    script(rig, lambda req: chunked(req.job_id, ["x"]))
    job = rig.drop("gone.wav")
    (rig.cfg.paths.inbox / "gone.wav").unlink()
    final = rig.run_next()
    assert final.state == "failed" and final.attempts == 1
    assert final.error == "the source file disappeared before transcription"
    assert rig.worker.submitted == [] and rig.job(job.id).source_path.endswith("gone.wav")


def test_unwritable_transcripts_fail_the_attempt_and_keep_the_source(rig: Rig) -> None:
    script(rig, lambda req: chunked(req.job_id, ["x"]))
    rig.cfg.paths.transcripts.rmdir()
    rig.cfg.paths.transcripts.write_text("a file where the folder should be")
    job = rig.drop("a.wav")
    after = rig.run_next()
    assert after.state == "queued" and after.error
    assert after.error.startswith("cannot write transcripts to")
    assert (rig.cfg.paths.inbox / "a.wav").exists() and rig.job(job.id).source_path.endswith(
        "Inbox/a.wav")


def test_a_source_that_changed_during_its_run_is_transcribed_again(rig: Rig) -> None:
    def change_midway(req: wp.Transcribe) -> list[wp.Reply | None]:
        Path(req.path).write_bytes(b"more audio arrived later")
        return chunked(req.job_id, ["partial"])

    script(rig, change_midway)
    rig.drop("growing.wav")
    after = rig.run_next()
    assert after.state == "queued" and after.attempts == 0
    assert after.size == len(b"more audio arrived later")
    assert not (rig.cfg.paths.transcripts / "growing.txt").exists()


def test_the_vocabulary_beside_a_file_reaches_the_worker_and_a_bad_one_is_a_warning(
    tmp_path: Path,
) -> None:
    r = Rig(tmp_path, lambda req: chunked(req.job_id, ["x"]),
            **{"engine.hotwords": "Voxtral, CTranslate2"})
    try:
        (r.cfg.paths.inbox / "talk.vocab.txt").write_text("ComfyUI\nVoxtral\n# a comment\n")
        r.drop("talk.wav")
        r.run_next()
        assert r.worker.submitted[0].options.hotwords == "Voxtral, CTranslate2, ComfyUI"
        assert (r.cfg.paths.processed / "talk.vocab.txt").exists()  # moved with its audio
        (r.cfg.paths.inbox / "other.vocab.txt").write_bytes(b"\x00\x01binary")
        r.drop("other.wav", b"other audio")
        done = r.run_next()
        assert r.worker.submitted[1].options.hotwords == "Voxtral, CTranslate2"
        assert done.warnings == ("vocabulary file other.vocab.txt is not text; ignored",)
        doc = json.loads((r.cfg.paths.transcripts / "other.json").read_text())
        assert doc["warnings"] == list(done.warnings)
    finally:
        r.close()


def test_a_model_that_cannot_load_holds_the_job_without_counting_it_against_the_file(
    rig: Rig,
) -> None:
    script(rig, lambda req: chunked(req.job_id, ["x"]))
    rig.worker.fail_start = "cannot load model 'x': corrupt"
    job = rig.drop("a.wav")
    started = time.time()
    after = rig.run_next()
    assert after.state == "queued" and after.attempts == 0
    assert after.next_attempt_at >= started + 50  # tried again later, not at once
    assert rig.runner.load_error == "cannot load model 'x': corrupt"
    assert (rig.cfg.paths.inbox / "a.wav").exists()  # not set aside: the file is fine
    rig.worker.fail_start = None
    assert rig.run_next().state == "done" and rig.runner.load_error is None
    assert rig.job(job.id).attempts == 1


def test_a_worker_that_goes_silent_is_stopped_at_the_stall_limit(tmp_path: Path) -> None:
    r = Rig(tmp_path, lambda req: [wp.Started(req.job_id, 60.0)],
            **{"jobs.stall_seconds": 1})
    silence_at_stop: list[float] = []
    stop = r.worker.stop

    def stop_and_note(grace: float = 2.0) -> None:
        silence_at_stop.append(r.current.silent_for())
        stop(grace)

    r.worker.stop = stop_and_note  # type: ignore[method-assign]
    try:
        r.drop("stuck.wav")
        after = r.run_next()
        assert after.state == "queued" and after.error and after.error.startswith(
            "no progress for 1 s")
        assert r.worker.stops == 1 and not r.worker.alive()
        # Stopped because, and only once, the job had been silent for the whole limit.
        assert len(silence_at_stop) == 1 and silence_at_stop[0] >= 1.0
    finally:
        r.close()


def test_a_source_replaced_by_a_pipe_or_a_link_is_refused_before_the_worker_opens_it(
    rig: Rig, tmp_path: Path,
) -> None:
    script(rig, lambda req: chunked(req.job_id, ["x"]))
    piped = rig.drop("piped.wav")
    linked = rig.drop("linked.wav", b"other audio")
    source = Path(piped.source_path)
    source.unlink()
    os.mkfifo(source)
    secret = tmp_path / "secret.wav"
    secret.write_bytes(b"private recording")
    Path(linked.source_path).unlink()
    Path(linked.source_path).symlink_to(secret)
    for job in (piped, linked):
        after = rig.run_next()
        assert after.id == job.id and after.state == "failed" and after.attempts == 1
        assert after.error and "no longer a regular file" in after.error
    assert rig.worker.submitted == []
    assert secret.read_bytes() == b"private recording"


def test_start_up_moves_on_a_source_whose_job_was_recorded_done_before_a_kill(rig: Rig) -> None:
    script(rig, lambda req: chunked(req.job_id, ["x"]))
    job = rig.drop("talk.wav")
    changed = rig.drop("changed.wav", b"first version")
    for j in (job, changed):
        rig.store.start(j.id)  # killed after `done` was recorded, before the move
        rig.store.finish(j.id, [], 60.0, 1.0, "en")
    (rig.cfg.paths.inbox / "changed.wav").write_bytes(b"second, longer version")
    assert Disposal(rig.store, rig.cfg).reconcile() == 1
    assert not (rig.cfg.paths.inbox / "talk.wav").exists()
    assert rig.job(job.id).source_path == str(rig.cfg.paths.processed / "talk.wav")
    # A file that changed since is new audio for the inbox, not the finished job's.
    assert (rig.cfg.paths.inbox / "changed.wav").exists()


def test_a_job_that_fails_for_good_removes_the_incomplete_transcripts_of_its_attempts(
    rig: Rig,
) -> None:
    script(rig, lambda req: [wp.Failed(req.job_id, "gone bad", permanent=True)])
    job = rig.drop("talk.wav")
    rig.store.set_output_stem(job.id, "talk")
    out = rig.cfg.paths.transcripts
    (out / "talk.txt").write_text("half a set, from a kill between renames")
    (out / "talk.srt").write_text("1\n")
    (out / "other.txt").write_text("another source's transcript")
    assert rig.run_next().state == "failed"
    assert sorted(p.name for p in out.iterdir()) == ["other.txt"]


def test_other_bytes_decoded_than_hashed_at_intake_run_again_under_their_own_hash(
    rig: Rig,
) -> None:
    decoded = {"sha": "bytes swapped in after intake"}
    script(rig, lambda req: chunked(req.job_id, ["new audio"], sha256=decoded["sha"]))
    job = rig.drop("a.wav")
    after = rig.run_next()
    assert after.state == "queued" and after.attempts == 0
    assert after.sha256 == "bytes swapped in after intake" != job.sha256
    assert not (rig.cfg.paths.transcripts / "a.txt").exists()
    done = rig.run_next()  # decoded again: now the same bytes as recorded
    assert done.state == "done" and done.sha256 == "bytes swapped in after intake"


class _Killed(BaseException):
    """Stands for kill -9 inside the move: nothing after it in the process runs."""


def test_a_kill_during_the_source_move_leaves_no_spurious_duplicate(
        rig: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    """The destination is recorded, then the process dies mid-copy (a move across disks)."""
    from voxtrald.jobs import sources

    script(rig, lambda req: chunked(req.job_id, ["x"]))
    job = rig.drop("talk.wav")

    def killed_mid_copy(source: Path, target: Path) -> None:
        raise _Killed

    monkeypatch.setattr(sources, "move_file", killed_mid_copy)
    with pytest.raises(_Killed):
        rig.run_next()
    monkeypatch.undo()
    left = rig.cfg.paths.inbox / "talk.wav"
    assert left.exists() and rig.job(job.id).state == "done"
    # The next start: reconcile, then the inbox scan offers the file it finds.
    Disposal(rig.store, rig.cfg).reconcile()
    if left.exists():
        rig.intake.take(left)
    assert [(j.id, j.state) for j in rig.store.list()] == [(job.id, "done")]
    assert not left.exists() and (rig.cfg.paths.processed / "talk.wav").exists()
    assert rig.job(job.id).source_path == str(rig.cfg.paths.processed / "talk.wav")
