"""What a search caller may see: only transcripts it could open, and none that are gone."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from voxtrald.api.router import ApiError
from voxtrald.api.transcript_routes import can_read, reindex, search
from voxtrald.store.jobs import JobStore
from voxtrald.store.search import Line


def mode(bits: int, uid: int = 1000, gid: int = 100) -> os.stat_result:
    return os.stat_result((stat.S_IFREG | bits, 0, 0, 1, uid, gid, 0, 0, 0, 0))


@pytest.mark.parametrize(("bits", "uid", "gids", "expected"), [
    (0o600, 1000, {100}, True),    # my private file
    (0o600, 1001, {100}, False),   # another user's private file in a shared inbox
    (0o640, 1001, {100}, True),    # shared with my group
    (0o640, 1001, {200}, False),
    (0o644, 1001, {200}, True),    # readable by all
    (0o044, 1000, {100}, False),   # the owner's own bits decide for the owner
    (0o000, 0, {0}, True),         # root
])
def test_a_file_is_readable_by_its_bits_as_posix_says(bits: int, uid: int, gids: set[int],
                                                      expected: bool) -> None:
    assert can_read(mode(bits), uid, frozenset(gids)) is expected


@pytest.fixture
def store(tmp_path: Path) -> JobStore:
    store = JobStore(tmp_path / "jobs.sqlite3")
    for name in ("kept", "gone"):
        json_path = tmp_path / f"{name}.json"
        json_path.write_text('{"segments": [{"start": 1, "end": 2, "text": "the budget"}]}')
        job, _ = store.add(f"/in/{name}.wav", f"{name}.wav", "", name, 1, 1.0, 3)
        store.start(job.id)
        store.finish(job.id, [str(json_path)], 2.0, 1.0, "en",
                     lines=[Line(1.0, 2.0, "the budget")])
    return store


def test_a_deleted_transcript_is_not_shown_and_leaves_the_index(store: JobStore,
                                                                tmp_path: Path) -> None:
    (tmp_path / "gone.json").unlink()
    doc = search(store, "budget", 10)
    assert [h["file"] for h in doc["hits"]] == ["kept.wav"]
    assert store.indexed_jobs() == 1
    rebuilt = reindex(store)
    assert rebuilt["transcripts"] == 1 and rebuilt["left_out"] == [2]


def test_a_hostile_query_is_a_clear_api_error(store: JobStore) -> None:
    with pytest.raises(ApiError) as err:
        search(store, "()*:^", 10)
    assert err.value.status == 400 and err.value.code == "bad_query"
