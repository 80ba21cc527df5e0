"""Transcript search on the team queue: PostgreSQL's full-text search over every machine's work.

The same index as SQLite's (one row per segment, replaced in the transaction
that records a job done), with the words in a `tsvector` under a GIN index.
Words are folded (lower case, no diacritics) before PostgreSQL sees them,
so "reunion" finds "réunion" as it does on one machine.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from voxtrald.store import sql_states as sql
from voxtrald.store.search import Hit, Line, TranscriptSearch
from voxtrald.store.searchtext import folded, ts_query


class PgTranscriptSearch(TranscriptSearch):
    @staticmethod
    def _unindex(db: Any, job_id: int) -> None:
        db.execute("DELETE FROM transcript_segments WHERE job_id=?", (job_id,))

    @staticmethod
    def _index(db: Any, job_id: int, lines: Iterable[Line]) -> int:
        rows = [(job_id, line.start, line.end, line.speaker, line.text, folded(line.text))
                for line in lines]
        if rows:
            db.executemany(
                "INSERT INTO transcript_segments(job_id, start_seconds, end_seconds, speaker,"
                " text, terms) VALUES (?, ?, ?, ?, ?, to_tsvector('simple', ?))", rows)
        return len(rows)

    def rebuild_index(self, documents: Iterable[tuple[int, Sequence[Line]]]) -> int:
        with self._tx() as db:
            db.execute("DELETE FROM transcript_segments")
            return sum(self._index(db, job_id, lines) for job_id, lines in documents)

    def search(self, query: str, limit: int) -> list[Hit]:
        """Segments matching `query`, best first (ts_rank), newest first among equals."""
        match = ts_query(query)
        with self._lock:
            rows = self._db.execute(
                "SELECT s.id, s.job_id, s.start_seconds, s.end_seconds, s.speaker, s.text,"
                " j.file, j.source_path, j.outputs FROM transcript_segments s"
                " JOIN jobs j ON j.id = s.job_id,"
                " to_tsquery('simple', ?) AS q"
                f" WHERE j.state = {sql.DONE} AND s.terms @@ q"
                " ORDER BY ts_rank(s.terms, q) DESC, s.id DESC LIMIT ?",
                (match, limit)).fetchall()
        return [Hit(r["job_id"], r["file"], r["source_path"],
                    tuple(json.loads(r["outputs"] or "[]")), r["start_seconds"],
                    r["end_seconds"], r["text"], r["speaker"], place)
                for place, r in enumerate(rows, start=1)]
