"""The job store: every file the daemon took, what happened to it, in SQLite.

SQLite in WAL mode gives crash safety for free: a job is recorded before any
work starts, so a crash (of the worker or the daemon itself) can always be
recovered from at the next start, and the content hash makes the same audio
dropped twice, under any name, a recorded duplicate instead of a second run.
Finished chunks of a running job are kept too, so a long job interrupted at
90 % resumes there instead of starting over.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from voxtrald.states import RETRYABLE_STATES, JobState
from voxtrald.store import sql_states as sql
from voxtrald.store.chunks import ChunkLog
from voxtrald.store.search import Line, TranscriptSearch
from voxtrald.store.speaker_names import SpeakerNameLog


@dataclass(frozen=True)
class Job:
    """One row of the store, as the rest of the daemon sees it (times are epoch seconds)."""

    id: int
    source_path: str
    file: str
    rel_dir: str
    sha256: str | None
    size: int | None
    mtime: float | None
    state: JobState
    attempts: int
    max_attempts: int
    created_at: float
    started_at: float | None
    finished_at: float | None
    next_attempt_at: float
    duration: float | None
    wall_seconds: float | None
    percent: float
    eta_seconds: float | None
    error: str | None
    duplicate_of: int | None
    output_stem: str | None
    outputs: tuple[str, ...]
    language: str | None
    language_probability: float | None
    warnings: tuple[str, ...]

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Job:
        data = dict(row)
        data.pop("speaker_names", None)  # read on its own (store/speaker_names.py)
        data["state"] = JobState(data["state"])
        data["outputs"] = tuple(json.loads(data["outputs"] or "[]"))
        data["warnings"] = tuple(json.loads(data["warnings"] or "[]"))
        return cls(**data)


class JobStore(ChunkLog, SpeakerNameLog, TranscriptSearch):
    """The jobs table: recording files, the queue, the outcome of each attempt."""

    def _job(self, job_id: int) -> Job:
        job = self.get(job_id)
        if job is None:
            raise KeyError(job_id)
        return job

    # -- recording -------------------------------------------------------------------------

    def known_version(self, source_path: str, size: int, mtime: float) -> bool:
        """True when this exact file (path, size, mtime) already has a job: no re-hash."""
        row = self._one(
            "SELECT size, mtime FROM jobs WHERE source_path=? ORDER BY id DESC LIMIT 1",
            (source_path,),
        )
        return row is not None and (row["size"], row["mtime"]) == (size, mtime)

    def add(self, source_path: str, file: str, rel_dir: str, sha256: str | None, size: int,
            mtime: float, max_attempts: int) -> tuple[Job, bool]:
        """Record a settled file: a new queued job, or a duplicate of an earlier one.

        A file that already has a queued or running job (it changed after it was
        taken) refreshes that job instead: returns (job, True).
        """
        now = time.time()
        with self._tx() as db:
            pending = db.execute(
                f"SELECT id, sha256 FROM jobs WHERE source_path=? AND state IN {sql.PENDING}"
                " ORDER BY id DESC LIMIT 1",
                (source_path,),
            ).fetchone()
            if pending:
                # New content deserves fresh tries; a running attempt keeps its count.
                db.execute(
                    "UPDATE jobs SET size=?, mtime=?,"
                    f" attempts=CASE WHEN state={sql.QUEUED} AND sha256 IS NOT ? THEN 0"
                    " ELSE attempts END,"
                    f" error=CASE WHEN state={sql.QUEUED} AND sha256 IS NOT ? THEN NULL"
                    " ELSE error END, sha256=? WHERE id=?",
                    (size, mtime, sha256, sha256, sha256, pending["id"]),
                )
                if pending["sha256"] != sha256:
                    db.execute("DELETE FROM chunks WHERE job_id=?", (pending["id"],))
                job_id, refreshed = pending["id"], True
            else:
                # Only a finished transcript makes a copy redundant: a copy of audio still
                # waiting is queued too, and becomes a duplicate when its turn comes if
                # the first has finished by then (`duplicate_if_done`). Otherwise a copy
                # thrown away now would be lost if the first changed or failed.
                original = None
                if sha256:
                    original = db.execute(
                        f"SELECT id FROM jobs WHERE sha256=? AND state={sql.DONE}"
                        " ORDER BY id LIMIT 1",
                        (sha256,),
                    ).fetchone()
                state = JobState.DUPLICATE if original else JobState.QUEUED
                cur = db.execute(
                    "INSERT INTO jobs (source_path, file, rel_dir, sha256, size, mtime, state,"
                    " max_attempts, created_at, duplicate_of, finished_at)"
                    " VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    (source_path, file, rel_dir, sha256, size, mtime, str(state), max_attempts,
                     now, original["id"] if original else None, now if original else None),
                )
                job_id, refreshed = cur.lastrowid, False
        return self._job(int(job_id or 0)), refreshed

    def add_failed(self, source_path: str, file: str, rel_dir: str, size: int, mtime: float,
                   error: str) -> Job:
        """Record a file that cannot even be queued (empty, unreadable) as failed at once."""
        now = time.time()
        with self._tx() as db:
            cur = db.execute(
                "INSERT INTO jobs (source_path, file, rel_dir, size, mtime, state, attempts,"
                " max_attempts, created_at, finished_at, error)"
                f" VALUES (?,?,?,?,?,{sql.FAILED},1,1,?,?,?)",
                (source_path, file, rel_dir, size, mtime, now, now, error),
            )
            job_id = cur.lastrowid
        return self._job(int(job_id or 0))

    # -- the queue ---------------------------------------------------------------------------

    def next_runnable(self, now: float | None = None) -> Job | None:
        now = time.time() if now is None else now
        row = self._one(
            f"SELECT * FROM jobs WHERE state={sql.QUEUED} AND next_attempt_at<=?"
            " ORDER BY id LIMIT 1",
            (now,),
        )
        return Job.from_row(row) if row else None

    def next_wakeup(self) -> float | None:
        row = self._one(f"SELECT MIN(next_attempt_at) AS t FROM jobs WHERE state={sql.QUEUED}")
        return float(row["t"]) if row and row["t"] is not None else None

    def duplicate_if_done(self, job_id: int) -> Job | None:
        """Record a queued job as a duplicate when the same audio is done by now; the job then."""
        with self._tx() as db:
            original = db.execute(
                "SELECT o.id FROM jobs j JOIN jobs o ON o.sha256=j.sha256 AND o.id!=j.id"
                f" WHERE j.id=? AND j.state={sql.QUEUED} AND o.state={sql.DONE}"
                " ORDER BY o.id LIMIT 1",
                (job_id,),
            ).fetchone()
            if original is None:
                return None
            db.execute(f"UPDATE jobs SET state={sql.DUPLICATE}, finished_at=?, duplicate_of=?"
                       " WHERE id=?", (time.time(), original["id"], job_id))
        return self.get(job_id)

    def start(self, job_id: int) -> Job:
        with self._tx() as db:
            db.execute(
                f"UPDATE jobs SET state={sql.RUNNING}, attempts=attempts+1, started_at=?,"
                " percent=0, eta_seconds=NULL, error=NULL WHERE id=?",
                (time.time(), job_id),
            )
        return self._job(job_id)

    def progress(self, job_id: int, percent: float, eta: float | None,
                 duration: float | None) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE jobs SET percent=?, eta_seconds=?, duration=COALESCE(?, duration)"
                " WHERE id=?",
                (percent, eta, duration, job_id),
            )

    def stems_in(self, rel_dir: str, except_id: int) -> set[str]:
        """Transcript names other jobs of this folder hold, written yet or not."""
        with self._lock:
            rows = self._db.execute(
                "SELECT output_stem FROM jobs WHERE rel_dir=? AND id!=?"
                " AND output_stem IS NOT NULL", (rel_dir, except_id)).fetchall()
        return {str(r["output_stem"]) for r in rows}

    def note_touched(self, job_id: int, size: int, mtime: float) -> None:
        """The file's size or time moved but not its content: remember it as it is now."""
        with self._tx() as db:
            db.execute("UPDATE jobs SET size=?, mtime=? WHERE id=?", (size, mtime, job_id))

    def set_output_stem(self, job_id: int, stem: str) -> None:
        with self._tx() as db:
            db.execute("UPDATE jobs SET output_stem=? WHERE id=?", (stem, job_id))

    def finish(self, job_id: int, outputs: Sequence[str], duration: float | None,
               wall_seconds: float, language: str | None,
               language_probability: float | None = None,
               warnings: Sequence[str] = (), lines: Sequence[Line] = ()) -> None:
        """Record a job done, and its transcript in the search index in the same step."""
        with self._tx() as db:
            db.execute(
                f"UPDATE jobs SET state={sql.DONE}, finished_at=?, percent=100, eta_seconds=0,"
                " outputs=?, duration=?, wall_seconds=?, language=?, language_probability=?,"
                " warnings=?, error=NULL WHERE id=?",
                (time.time(), json.dumps(list(outputs)), duration, wall_seconds, language,
                 language_probability, json.dumps(list(warnings)), job_id),
            )
            db.execute("DELETE FROM chunks WHERE job_id=?", (job_id,))
            self._unindex(db, job_id)
            self._index(db, job_id, lines)

    def fail_attempt(self, job_id: int, error: str, retry_in: float | None) -> bool | None:
        """Record a failed attempt; requeue after `retry_in` s, or fail for good.

        True if final, False if requeued, None when the job was not running (nothing done).
        """
        with self._tx() as db:
            row = db.execute("SELECT attempts, max_attempts FROM jobs WHERE id=?"
                             f" AND state={sql.RUNNING}", (job_id,)).fetchone()
            if row is None:
                return None
            final = retry_in is None or row["attempts"] >= row["max_attempts"]
            if final:
                db.execute(
                    f"UPDATE jobs SET state={sql.FAILED}, finished_at=?, error=?, eta_seconds=NULL"
                    f" WHERE id=? AND state={sql.RUNNING}",
                    (time.time(), error, job_id),
                )
            else:
                db.execute(
                    f"UPDATE jobs SET state={sql.QUEUED}, error=?, next_attempt_at=?,"
                    f" eta_seconds=NULL WHERE id=? AND state={sql.RUNNING}",
                    (error, time.time() + (retry_in or 0), job_id),
                )
        return final

    def cancel(self, job_id: int) -> Job | None:
        """Cancel a queued or running job: it ends now, its file left where it is.

        Its finished chunks go, so a retry starts afresh. The file's size and time
        stay recorded: the same unchanged file is not taken again (`known_version`),
        while a changed one is new work. None when no queued or running job has this
        id (unknown, or ended already).
        """
        with self._tx() as db:
            cur = db.execute(
                f"UPDATE jobs SET state={sql.CANCELLED}, finished_at=?, eta_seconds=NULL,"
                f" error=NULL WHERE id=? AND state IN {sql.PENDING}",
                (time.time(), job_id),
            )
            if cur.rowcount == 0:
                return None
            db.execute("DELETE FROM chunks WHERE job_id=?", (job_id,))
        return self.get(job_id)

    def set_source(self, job_id: int, source_path: str) -> None:
        with self._tx() as db:
            db.execute("UPDATE jobs SET source_path=? WHERE id=?", (source_path, job_id))

    def requeue(self, job_id: int, delay: float = 0.0, size: int | None = None,
                mtime: float | None = None, sha256: str | None = None) -> None:
        """Back to the queue, the attempt not counted (the file was not at fault).

        `size`/`mtime`/`sha256` record the file as it is now when it changed during
        its run; its finished chunks then no longer describe it and are dropped.
        """
        changed = size is not None or mtime is not None or sha256 is not None
        with self._tx() as db:
            db.execute(
                f"UPDATE jobs SET state={sql.QUEUED}, attempts=MAX(attempts-1, 0), percent=0,"
                " eta_seconds=NULL, next_attempt_at=?, size=COALESCE(?, size),"
                " mtime=COALESCE(?, mtime), sha256=COALESCE(?, sha256)"
                f" WHERE id=? AND state={sql.RUNNING}",
                (time.time() + delay if delay else 0, size, mtime, sha256, job_id),
            )
            if changed:
                db.execute("DELETE FROM chunks WHERE job_id=?", (job_id,))

    def pending_for(self, source_path: str) -> bool:
        """Whether a job for this file is queued or running."""
        return self._one(
            f"SELECT 1 FROM jobs WHERE source_path=? AND state IN {sql.PENDING} LIMIT 1",
            (source_path,),
        ) is not None

    def requeue_interrupted(self) -> list[int]:
        """Jobs left running by a crash or a stop: back to the queue, the attempt not counted."""
        with self._tx() as db:
            running = db.execute(f"SELECT id FROM jobs WHERE state={sql.RUNNING}")
            ids = [int(r["id"]) for r in running]
            db.execute(
                f"UPDATE jobs SET state={sql.QUEUED}, attempts=MAX(attempts-1, 0), percent=0,"
                f" eta_seconds=NULL, next_attempt_at=0 WHERE state={sql.RUNNING}"
            )
        return ids

    def retry(self, job_id: int, source: Path | None = None, sha256: str | None = None,
              max_attempts: int | None = None) -> Job:
        """Queue a failed or cancelled job again; `source` is where its file is now (it may
        have moved).

        `sha256` is the file's content now: a file the user replaced with a good
        copy keeps none of the old content's finished chunks.
        """
        job = self._job(job_id)
        if job.state not in RETRYABLE_STATES:
            raise ValueError(f"job {job_id} is {job.state}; only failed or cancelled jobs can "
                             "be retried")
        path, size, mtime = job.source_path, job.size, job.mtime
        if source is not None:
            st = source.stat()
            path, size, mtime = str(source), st.st_size, st.st_mtime
        with self._tx() as db:
            db.execute(
                f"UPDATE jobs SET state={sql.QUEUED}, attempts=0, next_attempt_at=0, error=NULL,"
                " finished_at=NULL, percent=0, source_path=?, size=?, mtime=?,"
                " sha256=COALESCE(?, sha256), max_attempts=COALESCE(?, max_attempts)"
                " WHERE id=?",
                (path, size, mtime, sha256, max_attempts, job_id),
            )
            if sha256 is not None and sha256 != job.sha256:
                db.execute("DELETE FROM chunks WHERE job_id=?", (job_id,))
            # Whatever the next attempt writes replaces it: until then nothing is found.
            self._unindex(db, job_id)
        return self._job(job_id)

    # -- reading ---------------------------------------------------------------------------

    def ended_under(self, folder: str) -> list[Job]:
        """Done and duplicate jobs whose source is still recorded under `folder`."""
        prefix = folder.rstrip("/\\") + "/"
        with self._lock:
            rows = self._db.execute(
                f"SELECT * FROM jobs WHERE state IN {sql.WITH_TRANSCRIPTS}"
                " AND substr(source_path, 1, ?) = ? ORDER BY id",
                (len(prefix), prefix),
            ).fetchall()
        return [Job.from_row(r) for r in rows]

    def get(self, job_id: int) -> Job | None:
        row = self._one("SELECT * FROM jobs WHERE id=?", (job_id,))
        return Job.from_row(row) if row else None

    def list(self, state: str | None = None, limit: int = 100) -> list[Job]:
        with self._lock:
            if state:
                rows = self._db.execute(
                    "SELECT * FROM jobs WHERE state=? ORDER BY id DESC LIMIT ?", (state, limit)
                ).fetchall()
            else:
                rows = self._db.execute(
                    "SELECT * FROM jobs ORDER BY id DESC LIMIT ?", (limit,)
                ).fetchall()
        return [Job.from_row(r) for r in rows]

    def counts(self) -> dict[str, int]:
        counts = {str(s): 0 for s in JobState}
        with self._lock:
            for row in self._db.execute("SELECT state, COUNT(*) AS n FROM jobs GROUP BY state"):
                counts[row["state"]] = row["n"]
        return counts

    def get_setting(self, key: str, default: str | None = None) -> str | None:
        row = self._one("SELECT value FROM settings WHERE key=?", (key,))
        return str(row["value"]) if row else default

    def set_setting(self, key: str, value: str) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO settings(key, value) VALUES(?, ?)"
                " ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                (key, value),
            )
