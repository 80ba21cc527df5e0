"""Finished chunks of running jobs, kept so a long job resumes instead of starting over.

Each chunk is stamped with the hash of the content it was transcribed from;
only an unbroken run of chunks from 0 whose stamp still matches the job's
file is ever resumed, so a file that changed never gets its old text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from voxtrald.store import sql_states as sql
from voxtrald.store.db import Database
from voxtrald.transcripts.segments import Segment
from voxtrald.transcripts.voices import Voice, voices_from_list


@dataclass(frozen=True)
class Chunk:
    """A finished chunk of a running job: its segments and where the next one starts."""

    index: int
    end: float
    segments: tuple[Segment, ...]
    language: str | None
    language_probability: float | None
    voices: tuple[Voice, ...] = ()


class ChunkLog(Database):
    def save_chunk(self, job_id: int, chunk: Chunk, sha256: str | None) -> None:
        """Keep a finished chunk of a running job, stamped with the hash of the content it
        was transcribed from (the attempt's, not whatever the job records by now)."""
        fence, token = self._fence(job_id)
        # Not flushed on the team queue: a checkpoint lost to a server crash only means
        # resuming from the one before.
        with self._tx(durable=False) as db:
            db.execute(
                "INSERT INTO chunks (job_id, idx, end_seconds, sha256, segments,"
                " language, language_probability, voices)"
                " SELECT id, ?, ?, ?, ?, ?, ?, ? FROM jobs"
                f" WHERE id=? AND state={sql.RUNNING}{fence}"
                " ON CONFLICT (job_id, idx) DO UPDATE SET end_seconds=excluded.end_seconds,"
                " sha256=excluded.sha256, segments=excluded.segments,"
                " language=excluded.language,"
                " language_probability=excluded.language_probability, voices=excluded.voices",
                (chunk.index, chunk.end, sha256,
                 json.dumps([s.to_dict() for s in chunk.segments]),
                 chunk.language, chunk.language_probability,
                 json.dumps([v.to_dict() for v in chunk.voices]), job_id, *token),
            )

    def chunks(self, job_id: int) -> list[Chunk]:
        """The job's finished chunks in order, as long as they are contiguous from 0."""
        with self._lock:
            rows = self._db.execute(
                "SELECT c.* FROM chunks c JOIN jobs j ON j.id=c.job_id"
                " WHERE c.job_id=? AND c.sha256 IS NOT DISTINCT FROM j.sha256 ORDER BY c.idx",
                (job_id,),
            ).fetchall()
        out: list[Chunk] = []
        for row in rows:
            if row["idx"] != len(out):
                break
            segments = tuple(Segment.from_dict(s) for s in json.loads(row["segments"]))
            out.append(Chunk(row["idx"], float(row["end_seconds"]), segments, row["language"],
                             row["language_probability"],
                             voices_from_list(json.loads(row["voices"] or "[]"))))
        return out
