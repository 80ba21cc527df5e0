"""The transcript search index: every finished transcript's segments, in SQLite FTS5.

One row per segment (job, times, speaker when known, the text as written) in
`transcript_segments`; the words in a contentless FTS5 table beside it, so
the text is stored once. A job's rows are replaced in the same transaction
that records it done, so the index never disagrees with the job list; a
retried job loses its rows until it finishes again, and `rebuild` makes the
whole index again from the transcripts' JSON files.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from voxtrald.store import sql_states as sql
from voxtrald.store.db import Database
from voxtrald.store.searchtext import fts_query, index_terms

# Past this many matching segments, hits come newest first rather than ranked by bm25.
RANK_AT_MOST = 5_000


@dataclass(frozen=True)
class Line:
    """One segment as the index holds it."""

    start: float
    end: float
    text: str
    speaker: str | None = None


@dataclass(frozen=True)
class Hit:
    job_id: int
    file: str
    source_path: str
    outputs: tuple[str, ...]
    start: float
    end: float
    text: str
    speaker: str | None
    place: int  # 1 for the first hit
    ranked: bool = True  # False: newest first (words too common to rank)


def lines_of_json(doc: Any) -> list[Line]:
    """The shown segments of a JSON transcript and of its English translation, if any."""
    translation = doc.get("translation") if isinstance(doc, dict) else None
    return _lines(doc) + (_lines(translation) if isinstance(translation, dict) else [])


def _lines(doc: Any) -> list[Line]:
    """Timed segments with text (removed ones are not in the transcript's text)."""
    out: list[Line] = []
    segments = doc.get("segments") if isinstance(doc, dict) else None
    for seg in segments if isinstance(segments, list) else []:
        if not isinstance(seg, dict) or seg.get("removed"):
            continue
        text, start, end = seg.get("text"), seg.get("start"), seg.get("end")
        if not isinstance(text, str) or not text.strip():
            continue
        if not isinstance(start, int | float) or not isinstance(end, int | float):
            continue
        speaker = seg.get("speaker")
        out.append(Line(float(start), float(end), text.strip(),
                        speaker if isinstance(speaker, str) else None))
    return out


class TranscriptSearch(Database):
    """Indexing and searching transcripts; part of the job store."""

    @staticmethod
    def _unindex(db: sqlite3.Connection, job_id: int) -> None:
        rows = db.execute("SELECT id, text FROM transcript_segments WHERE job_id=?",
                          (job_id,)).fetchall()
        # A contentless index forgets a row only when told the words it held.
        db.executemany("INSERT INTO transcript_fts(transcript_fts, rowid, terms)"
                       " VALUES('delete', ?, ?)", [(r["id"], index_terms(r["text"])) for r in rows])
        db.execute("DELETE FROM transcript_segments WHERE job_id=?", (job_id,))

    @staticmethod
    def _index(db: sqlite3.Connection, job_id: int, lines: Iterable[Line]) -> int:
        count = 0
        for line in lines:
            cur = db.execute(
                "INSERT INTO transcript_segments(job_id, start_seconds, end_seconds, speaker,"
                " text) VALUES (?, ?, ?, ?, ?)",
                (job_id, line.start, line.end, line.speaker, line.text))
            db.execute("INSERT INTO transcript_fts(rowid, terms) VALUES (?, ?)",
                       (cur.lastrowid, index_terms(line.text)))
            count += 1
        return count

    def index_job(self, job_id: int, lines: Sequence[Line]) -> None:
        """Replace a job's rows in the index (its transcript was written again)."""
        with self._tx() as db:
            self._unindex(db, job_id)
            self._index(db, job_id, lines)

    def unindex_job(self, job_id: int) -> None:
        with self._tx() as db:
            self._unindex(db, job_id)

    def rebuild_index(self, documents: Iterable[tuple[int, Sequence[Line]]]) -> int:
        """The whole index again from (job id, lines); returns the segments indexed."""
        with self._tx() as db:
            db.execute("INSERT INTO transcript_fts(transcript_fts) VALUES('delete-all')")
            db.execute("DELETE FROM transcript_segments")
            return sum(self._index(db, job_id, lines) for job_id, lines in documents)

    def _newest(self, match: str, limit: int) -> list[int]:
        """The newest matching segments, newest first, read forwards from a recent rowid.

        FTS5 reads a word's list backwards only by loading all of it, so the newest
        are found in a window of recent rows, widened until it holds enough.
        """
        top = self._db.execute("SELECT max(id) FROM transcript_segments").fetchone()[0] or 0
        window = RANK_AT_MOST
        while True:
            found = [row[0] for row in self._db.execute(
                "SELECT rowid FROM transcript_fts WHERE transcript_fts MATCH ? AND rowid > ?",
                (match, top - window))]
            if len(found) >= limit or window >= top:
                return found[::-1][:limit]
            window *= 4

    def done_outputs(self) -> list[tuple[int, tuple[str, ...]]]:
        """(job id, outputs) of every finished job: what a rebuild reads again."""
        with self._lock:
            rows = self._db.execute(f"SELECT id, outputs FROM jobs WHERE state={sql.DONE}"
                                    " ORDER BY id").fetchall()
        return [(int(r["id"]), tuple(json.loads(r["outputs"] or "[]"))) for r in rows]

    def indexed_jobs(self) -> int:
        row = self._one("SELECT COUNT(DISTINCT job_id) FROM transcript_segments")
        return int(row[0]) if row else 0

    def search(self, query: str, limit: int) -> list[Hit]:
        """Segments matching `query`, best first (bm25); QueryError for a bad query.

        bm25 reads every match of every word to weigh it, and tells little apart when
        the words are everywhere: a query matching more than RANK_AT_MOST segments
        (two of the commonest words over a year of transcripts) gets the newest
        matches first instead, found without reading the rest.
        """
        match = fts_query(query)
        with self._lock:
            # Ascending, as FTS5 reads its lists: it stops at the answer.
            common = self._db.execute(
                "SELECT 1 FROM transcript_fts WHERE transcript_fts MATCH ? LIMIT 1 OFFSET ?",
                (match, RANK_AT_MOST)).fetchone()
            ids = self._newest(match, limit) if common else [row[0] for row in self._db.execute(
                "SELECT rowid FROM transcript_fts WHERE transcript_fts MATCH ? ORDER BY rank"
                " LIMIT ?", (match, limit))]
            rows = self._db.execute(
                "SELECT s.id, s.job_id, s.start_seconds, s.end_seconds, s.speaker, s.text,"
                " j.file, j.source_path, j.outputs FROM transcript_segments s"
                # CROSS JOIN keeps this order: the hits first, then their jobs. Left to
                # itself the planner may start from the jobs' state index and read every
                # segment of every finished job.
                f" CROSS JOIN jobs j ON j.id = s.job_id WHERE j.state = {sql.DONE} AND s.id IN"
                f" ({', '.join('?' for _ in ids)})", ids).fetchall()
        place = {segment: n for n, segment in enumerate(ids, start=1)}
        return sorted((Hit(r["job_id"], r["file"], r["source_path"],
                           tuple(json.loads(r["outputs"] or "[]")), r["start_seconds"],
                           r["end_seconds"], r["text"], r["speaker"], place[r["id"]],
                           ranked=common is None) for r in rows), key=lambda h: h.place)


def refill_words(db: sqlite3.Connection) -> None:
    """Make the FTS5 words again from `transcript_segments` (a store copied table by table).

    FTS5's own tables cannot be copied row by row like the others; the
    segments table can, and the words follow from it.
    """
    db.execute("INSERT INTO main.transcript_fts(transcript_fts) VALUES('delete-all')")
    rows = db.execute("SELECT id, text FROM main.transcript_segments").fetchall()
    db.executemany("INSERT INTO main.transcript_fts(rowid, terms) VALUES (?, ?)",
                   [(row[0], index_terms(row[1])) for row in rows])


def json_output(outputs: Sequence[str]) -> Path | None:
    """The JSON transcript among a job's outputs."""
    return next((Path(p) for p in outputs if p.endswith(".json")), None)
