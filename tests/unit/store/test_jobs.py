"""The job store: states, dedup by content, crash recovery, retries."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from voxtrald.store import migrations
from voxtrald.store.chunks import Chunk
from voxtrald.store.jobs import Job, JobStore
from voxtrald.transcripts.segments import Segment


@pytest.fixture
def store(tmp_path: Path) -> JobStore:
    return JobStore(tmp_path / "jobs.sqlite3")


def add(store: JobStore, name: str, sha: str = "abc") -> Job:
    job, refreshed = store.add(f"/in/{name}", name, "", sha, 10, 1.0, 3)
    assert not refreshed
    return job


def test_same_content_as_a_finished_job_is_a_duplicate(store: JobStore) -> None:
    first = add(store, "a.wav")
    store.start(first.id)
    store.finish(first.id, [], 1.0, 1.0, "en")
    second = add(store, "b.wav")
    other = add(store, "c.wav", sha="def")
    assert other.state == "queued"
    assert second.state == "duplicate" and second.duplicate_of == first.id
    assert store.counts()["duplicate"] == 1


def test_a_copy_of_audio_still_waiting_waits_too_and_is_a_duplicate_once_the_first_is_done(
    store: JobStore,
) -> None:
    first = add(store, "take.wav")
    copy = add(store, "take backup.wav")
    assert copy.state == "queued"  # not thrown away: the first may still change or fail
    assert store.duplicate_if_done(copy.id) is None
    store.start(first.id)
    store.finish(first.id, [], 1.0, 1.0, "en")
    dup = store.duplicate_if_done(copy.id)
    assert dup is not None and dup.state == "duplicate" and dup.duplicate_of == first.id


def test_a_copy_whose_first_changed_before_it_ran_is_transcribed_itself(store: JobStore) -> None:
    first = add(store, "take.wav")
    copy = add(store, "take backup.wav")
    store.add("/in/take.wav", "take.wav", "", "the next take", 20, 2.0, 3)  # reused
    store.start(first.id)
    store.finish(first.id, [], 1.0, 1.0, "en")
    assert store.duplicate_if_done(copy.id) is None
    assert store.get(copy.id).state == "queued"  # type: ignore[union-attr]


def test_a_failed_original_does_not_block_a_new_try(store: JobStore) -> None:
    first = add(store, "a.wav")
    store.start(first.id)
    store.fail_attempt(first.id, "broken", None)
    assert add(store, "a again.wav").state == "queued"


def test_running_jobs_are_requeued_after_a_crash(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "j.db")
    job = add(store, "a.wav")
    store.start(job.id)
    store.close()
    reopened = JobStore(tmp_path / "j.db")
    assert reopened.requeue_interrupted() == [job.id]
    again = reopened.get(job.id)
    assert again is not None and again.state == "queued" and again.attempts == 0


def test_retries_with_backoff_then_final(store: JobStore) -> None:
    job = add(store, "a.wav")
    for attempt in (1, 2):
        store.start(job.id)
        assert store.fail_attempt(job.id, f"boom {attempt}", 100.0) is False
        assert store.next_runnable() is None  # waiting out the backoff
        assert store.next_runnable(now=10**12) is not None
    store.start(job.id)
    assert store.fail_attempt(job.id, "boom 3", 100.0) is True
    final = store.get(job.id)
    assert final is not None and final.state == "failed" and final.error == "boom 3"
    retried = store.retry(job.id)
    assert retried.state == "queued" and retried.attempts == 0
    with pytest.raises(ValueError):
        store.retry(job.id)
    with pytest.raises(KeyError):
        store.retry(999)


def test_known_version_avoids_rehashing(store: JobStore) -> None:
    add(store, "a.wav")
    assert store.known_version("/in/a.wav", 10, 1.0)
    assert not store.known_version("/in/a.wav", 11, 1.0)


def test_list_newest_first_and_settings(store: JobStore) -> None:
    ids = [add(store, f"{i}.wav", sha=str(i)).id for i in range(3)]
    assert [j.id for j in store.list()] == ids[::-1]
    assert [j.id for j in store.list("queued", 2)] == ids[:0:-1]
    store.set_setting("paused", "1")
    assert store.get_setting("paused") == "1"


def test_a_waiting_file_that_changes_refreshes_its_job(store: JobStore) -> None:
    job = add(store, "a.wav")
    again, refreshed = store.add("/in/a.wav", "a.wav", "", "new", 20, 2.0, 3)
    assert refreshed and again.id == job.id and again.state == "queued"
    assert (again.size, again.sha256) == (20, "new")
    assert store.counts()["duplicate"] == 0
    store.start(job.id)
    store.requeue(job.id)
    requeued = store.get(job.id)
    assert requeued is not None and requeued.state == "queued" and requeued.attempts == 0


def test_only_the_newest_job_of_a_path_makes_it_known(store: JobStore) -> None:
    first = add(store, "a.wav")
    store.start(first.id)
    store.finish(first.id, [], 1.0, 1.0, "en")
    second, _ = store.add("/in/a.wav", "a.wav", "", "other", 20, 2.0, 3)
    assert store.known_version("/in/a.wav", 20, 2.0)
    # The old version coming back is new again for the inbox, not silently "known".
    assert not store.known_version("/in/a.wav", 10, 1.0)


def test_a_changed_running_file_is_requeued_with_its_new_figures(store: JobStore) -> None:
    job = add(store, "a.wav")
    store.start(job.id)
    store.requeue(job.id, delay=100.0, size=99, mtime=5.0)
    again = store.get(job.id)
    assert again is not None and (again.size, again.mtime) == (99, 5.0)
    assert store.next_runnable() is None and store.next_runnable(now=10**12) is not None
    assert store.known_version("/in/a.wav", 99, 5.0)


def test_new_content_in_a_waiting_job_gets_fresh_tries(store: JobStore) -> None:
    job = add(store, "a.wav")
    store.start(job.id)
    store.fail_attempt(job.id, "boom", 0.0)
    refreshed, was = store.add("/in/a.wav", "a.wav", "", "new content", 11, 3.0, 3)
    assert was and refreshed.attempts == 0 and refreshed.error is None


def test_failing_a_job_that_is_not_running_records_nothing(store: JobStore) -> None:
    job = add(store, "a.wav")
    assert store.fail_attempt(job.id, "boom", 1.0) is None
    store.start(job.id)
    store.finish(job.id, [], 1.0, 1.0, "en")
    assert store.fail_attempt(job.id, "boom", 1.0) is None
    done = store.get(job.id)
    assert done is not None and done.state == "done"


def _chunk(index: int, end: float, text: str) -> Chunk:
    return Chunk(index, end, (Segment(end - 1.0, end, text),), "fr", 0.9)


def test_finished_chunks_are_kept_for_a_resume_and_dropped_when_the_job_is_done(
    store: JobStore,
) -> None:
    job = add(store, "long.wav")
    store.start(job.id)
    store.save_chunk(job.id, _chunk(0, 60.0, "un"), job.sha256)
    store.save_chunk(job.id, _chunk(1, 118.5, "deux"), job.sha256)
    store.requeue(job.id)  # a stop mid-job: the chunks stay
    chunks = store.chunks(job.id)
    assert [(c.index, c.end, c.segments[0].text) for c in chunks] == [
        (0, 60.0, "un"), (1, 118.5, "deux")]
    assert chunks[1].language == "fr" and chunks[1].language_probability == 0.9
    store.start(job.id)
    store.finish(job.id, [], 200.0, 10.0, "fr", 0.9, ["a warning"])
    assert store.chunks(job.id) == []
    done = store.get(job.id)
    assert done is not None and done.warnings == ("a warning",)
    assert done.language_probability == 0.9


def test_chunks_of_other_content_or_with_a_gap_are_not_resumed(store: JobStore) -> None:
    job = add(store, "a.wav")
    store.start(job.id)
    store.save_chunk(job.id, _chunk(0, 60.0, "old"), job.sha256)
    store.requeue(job.id, delay=0, size=99, mtime=9.0)  # the file changed during its run
    assert store.chunks(job.id) == []
    store.start(job.id)
    store.save_chunk(job.id, _chunk(0, 60.0, "a"), job.sha256)
    store.save_chunk(job.id, _chunk(2, 180.0, "c"), job.sha256)  # chunk 1 never finished
    assert [c.index for c in store.chunks(job.id)] == [0]
    store.requeue(job.id)
    store.add("/in/a.wav", "a.wav", "", "other content", 20, 3.0, 3)  # refreshed in the queue
    assert store.chunks(job.id) == []


def test_a_chunk_for_a_job_that_is_not_running_is_not_saved(store: JobStore) -> None:
    job = add(store, "a.wav")
    store.save_chunk(job.id, _chunk(0, 60.0, "late"), job.sha256)
    assert store.chunks(job.id) == []


def test_a_store_from_before_versions_is_migrated_in_place(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(migrations._V1)
    db.execute("INSERT INTO jobs (source_path, file, state, max_attempts, created_at)"
               " VALUES ('/in/a.wav', 'a.wav', 'done', 3, 1.0)")
    db.commit()
    db.close()
    store = JobStore(path)
    assert store.previous_schema == 1
    (job,) = store.list()
    assert job.file == "a.wav" and job.state == "done" and job.warnings == ()
    store.close()
    assert JobStore(path).previous_schema == migrations.SCHEMA_VERSION


def test_a_store_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite3"
    JobStore(path).close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {migrations.SCHEMA_VERSION + 1}")
    db.commit()
    db.close()
    with pytest.raises(migrations.NewerSchema, match="newer than this voxtrald"):
        JobStore(path)


def test_cancelling_a_queued_job_ends_it_and_keeps_its_file_known(store: JobStore) -> None:
    job = add(store, "skip.wav")
    cancelled = store.cancel(job.id)
    assert cancelled is not None and cancelled.state == "cancelled"
    assert cancelled.finished_at is not None and cancelled.source_path == "/in/skip.wav"
    assert store.counts()["cancelled"] == 1 and store.counts()["queued"] == 0
    assert store.next_runnable() is None and not store.pending_for("/in/skip.wav")
    # The same file, unchanged, is not taken again; changed, it is new work.
    assert store.known_version("/in/skip.wav", 10, 1.0)
    assert not store.known_version("/in/skip.wav", 11, 2.0)
    again, refreshed = store.add("/in/skip.wav", "skip.wav", "", "new take", 11, 2.0, 3)
    assert not refreshed and again.id != job.id and again.state == "queued"


def test_cancelling_a_running_job_drops_its_chunks(store: JobStore) -> None:
    job = add(store, "long.wav")
    store.start(job.id)
    store.save_chunk(job.id, _chunk(0, 60.0, "un"), job.sha256)
    cancelled = store.cancel(job.id)
    assert cancelled is not None and cancelled.state == "cancelled"
    assert cancelled.eta_seconds is None and store.chunks(job.id) == []
    # What the stopped attempt might still say lands nowhere.
    store.save_chunk(job.id, _chunk(1, 120.0, "deux"), job.sha256)
    assert store.fail_attempt(job.id, "late", None) is None
    store.requeue(job.id)
    assert store.chunks(job.id) == [] and store.get(job.id).state == "cancelled"  # type: ignore[union-attr]


def test_only_queued_or_running_jobs_can_be_cancelled(store: JobStore) -> None:
    done = add(store, "done.wav")
    store.start(done.id)
    store.finish(done.id, [], 1.0, 1.0, "en")
    dup = add(store, "copy.wav")
    failed = store.add_failed("/in/empty.wav", "empty.wav", "", 0, 1.0, "the file is empty")
    queued = add(store, "q.wav", sha="other")
    assert dup.state == "duplicate"
    for job in (done, dup, failed):
        state = store.get(job.id).state  # type: ignore[union-attr]
        assert store.cancel(job.id) is None
        assert store.get(job.id).state == state  # type: ignore[union-attr]
    assert store.cancel(queued.id) is not None
    assert store.cancel(queued.id) is None  # once is enough
    assert store.cancel(9999) is None


def test_a_cancelled_job_can_be_retried_from_the_start(store: JobStore, tmp_path: Path) -> None:
    source = tmp_path / "talk.wav"
    source.write_bytes(b"audio")
    job, _ = store.add(str(source), "talk.wav", "", "abc", 5, source.stat().st_mtime, 3)
    store.start(job.id)
    store.cancel(job.id)
    again = store.retry(job.id, source, "abc")
    assert again.state == "queued" and again.attempts == 0 and again.finished_at is None
    assert store.next_runnable() is not None
