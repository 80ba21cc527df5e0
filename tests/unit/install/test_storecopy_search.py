"""A store carried back on rollback keeps its search index whole and in step."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from voxtrald.install import storecopy
from voxtrald.states import JobState
from voxtrald.store.jobs import JobStore
from voxtrald.store.migrations import SCHEMA_VERSION
from voxtrald.store.search import Line


def test_rollback_carries_indexed_transcripts_and_their_words(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    state_dir.mkdir()
    store = JobStore(state_dir / "jobs.sqlite3")
    job, _ = store.add("/in/before.wav", "before.wav", "", "a", 1, 1.0, 3)
    store.start(job.id)
    store.finish(job.id, [], 1.0, 1.0, "fr", lines=[Line(0.0, 1.0, "la réunion")])
    store.close()
    saved = tmp_path / "backups" / "jobs.sqlite3"
    assert storecopy.backup(state_dir, saved)
    store = JobStore(state_dir / "jobs.sqlite3")  # the newer version indexes one more
    job, _ = store.add("/in/during.wav", "during.wav", "", "b", 1, 1.0, 3)
    store.start(job.id)
    store.finish(job.id, [], 1.0, 1.0, "en", lines=[Line(2.0, 3.0, "the budget review")])
    store.close()
    db = sqlite3.connect(state_dir / "jobs.sqlite3")
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.commit()
    db.close()
    states = [s.value for s in JobState]
    assert storecopy.restore_for(state_dir, saved, SCHEMA_VERSION, states) == "carried"
    store = JobStore(state_dir / "jobs.sqlite3")
    try:
        assert [h.file for h in store.search("budget", 5)] == ["during.wav"]
        assert [h.file for h in store.search("reunion", 5)] == ["before.wav"]
    finally:
        store.close()
