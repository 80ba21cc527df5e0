"""GET and POST /api/jobs/{id}/speakers: a finished job's speakers, and their names.

A rename is kept in the job store as well as written into the job's
transcripts, so any later render of the job keeps the names.
"""

from __future__ import annotations

import stat
import threading
from pathlib import Path
from typing import Any

from voxtrald.api.errors import ApiError
from voxtrald.api.router import Request, Router
from voxtrald.states import JobState
from voxtrald.store.jobs import Job, JobStore
from voxtrald.transcripts import relabel


def register_routes(router: Router, store: JobStore) -> None:
    lock = threading.Lock()  # one rename at a time: two would race on the same files

    def job_of(req: Request) -> tuple[Job, Path]:
        raw = req.params.get("id", "")
        if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
            raise ApiError(400, "bad_parameter", f"job id must be a positive integer, not {raw!r}")
        job_id = int(raw)
        job = store.get(job_id)
        if job is None:
            raise ApiError(404, "job_not_found", f"no job with id {job_id}")
        if job.state != JobState.DONE:
            raise ApiError(409, "job_not_done", f"job {job_id} is {job.state}; speakers are "
                                                "known once it is done")
        found = [Path(p) for p in job.outputs if p.endswith(".json")]
        if not found:
            raise ApiError(409, "no_json_transcript",
                           "speakers are read from the JSON transcript; add json to "
                           "[outputs] formats and retry the job")
        return job, found[0]

    def get_speakers(req: Request) -> dict[str, Any]:
        job, path = job_of(req)
        try:
            segments, meta = relabel.read_json(path)
        except relabel.RelabelError as exc:
            raise ApiError(409, "transcript_unreadable", str(exc)) from exc
        return {"id": job.id, "file": job.file, "speakers": relabel.listing(segments, meta)}

    def rename(req: Request) -> dict[str, Any]:
        job, path = job_of(req)
        body = req.json()
        names = body.get("names")
        if not isinstance(names, dict) or not names:
            raise ApiError(400, "bad_names", 'send {"names": {"1": "Alice", "2": "Bob"}}')
        formats = [Path(p).suffix[1:] for p in job.outputs]
        with lock:
            try:
                segments, meta = relabel.read_json(path)
                known = [s["id"] for s in meta.get("speakers") or () if isinstance(s, dict)]
                parsed = relabel.parse_names(names, known)
                relabel.rename(path, formats, parsed, mode=stat.S_IMODE(path.stat().st_mode))
            except relabel.RelabelError as exc:
                raise ApiError(409, "cannot_rename", str(exc)) from exc
            except OSError as exc:
                raise ApiError(500, "write_failed", f"cannot rewrite the transcripts: "
                                                    f"{exc.strerror or exc}") from exc
            store.set_speaker_names(job.id, {**store.speaker_names(job.id), **parsed})
            segments, meta = relabel.read_json(path)
        return {"id": job.id, "file": job.file, "speakers": relabel.listing(segments, meta)}

    router.add("GET", "/api/jobs/{id}/speakers", get_speakers)
    router.add("POST", "/api/jobs/{id}/speakers", rename)
