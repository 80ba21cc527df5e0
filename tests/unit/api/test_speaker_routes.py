"""GET/POST /api/jobs/{id}/speakers with a real job store and real transcript files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from voxtrald.api.errors import ApiError
from voxtrald.api.router import Request, Router
from voxtrald.api.speaker_routes import register_routes
from voxtrald.jobs import speaker_labels
from voxtrald.store.jobs import JobStore
from voxtrald.transcripts import outputs
from voxtrald.transcripts.segments import Segment, Word

FORMATS = ["txt", "vtt", "json"]


def segment(start: float, text: str) -> Segment:
    return Segment(start, start + 1, text, (Word(f" {text}", start, start + 1, 0.9),))


@pytest.fixture
def rig(tmp_path: Path) -> tuple[Router, JobStore, int]:
    store = JobStore(tmp_path / "jobs.sqlite3")
    job_id = store.add("/in/talk.wav", "talk.wav", "", "abc", 10, 1.0, 3)[0].id
    store.start(job_id)
    segs = speaker_labels.apply([segment(0.5, "hello"), segment(6.0, "bonjour")],
                                [(1.0, 1), (1.8, 1), (5.8, 2), (6.6, 2)])
    written = outputs.write_transcripts(tmp_path, "talk", FORMATS, segs,
                                        speaker_labels.meta(segs, {}))
    store.finish(job_id, [str(p) for p in written], 8.0, 1.0, "en")
    router = Router()
    register_routes(router, store)
    return router, store, job_id


def call(router: Router, method: str, path: str, body: object = None) -> tuple[int, dict]:
    raw = b"" if body is None else json.dumps(body).encode()
    try:
        return router.dispatch(Request(method, path, body=raw))
    except ApiError as exc:  # the server turns this into the error body
        return exc.status, {"error": {"code": exc.code, "message": exc.message}}


def test_speakers_are_listed_and_renamed(rig: tuple[Router, JobStore, int],
                                         tmp_path: Path) -> None:
    router, store, job_id = rig
    status, body = call(router, "GET", f"/api/jobs/{job_id}/speakers")
    assert status == 200
    assert [(s["id"], s["label"], s["first_words"]) for s in body["speakers"]] == [
        (1, "Speaker 1", "hello"), (2, "Speaker 2", "bonjour")]
    status, body = call(router, "POST", f"/api/jobs/{job_id}/speakers",
                        {"names": {"2": "Zoé"}})
    assert status == 200 and body["speakers"][1]["label"] == "Zoé"
    assert (tmp_path / "talk.txt").read_text() == "Speaker 1: hello\n\nZoé: bonjour\n"
    assert store.speaker_names(job_id) == {2: "Zoé"}


@pytest.mark.parametrize(("path", "body", "status", "code"), [
    ("/api/jobs/99/speakers", None, 404, "job_not_found"),
    ("/api/jobs/x1/speakers", None, 400, "bad_parameter"),
    ("/api/jobs/{id}/speakers", {"names": []}, 400, "bad_names"),
    ("/api/jobs/{id}/speakers", {"names": {"3": "Eve"}}, 409, "cannot_rename"),
])
def test_bad_requests_get_clear_errors(rig: tuple[Router, JobStore, int], path: str,
                                       body: object, status: int, code: str) -> None:
    router, _store, job_id = rig
    method = "GET" if body is None else "POST"
    got, answer = call(router, method, path.format(id=job_id), body)
    assert got == status and answer["error"]["code"] == code


def test_a_job_not_done_has_no_speakers_yet(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.sqlite3")
    job_id = store.add("/in/a.wav", "a.wav", "", "abc", 10, 1.0, 3)[0].id
    router = Router()
    register_routes(router, store)
    got, answer = call(router, "GET", f"/api/jobs/{job_id}/speakers")
    assert got == 409 and answer["error"]["code"] == "job_not_done"
