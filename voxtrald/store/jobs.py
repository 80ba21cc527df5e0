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
from collections.abc import Sequence
from pathlib import Path

from voxtrald.states import RETRYABLE_STATES, JobState
from voxtrald.store import sql_states as sql
from voxtrald.store.chunks import ChunkLog
from voxtrald.store.claims import UNCOUNT, Claims
from voxtrald.store.errors import ClaimLost
from voxtrald.store.job import Job
from voxtrald.store.search import Line, TranscriptSearch
from voxtrald.store.speaker_names import SpeakerNameLog


class JobStore(Claims, ChunkLog, SpeakerNameLog, TranscriptSearch):
    """The jobs table: recording files, the queue, the outcome of each attempt."""

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
        now = self.now()
        # Not flushed on the team queue: until a job is claimed its file stays in the inbox,
        # and a record lost to a server crash is made again at the next scan.
        with self._tx(durable=False) as db:
            # Machines sharing an inbox all see the file: one records it, the others find it.
            self._serialize(db, source_path)
            pending = db.execute(
                "SELECT id, sha256, size, mtime FROM jobs WHERE source_path=?"
                f" AND state IN {sql.PENDING}"
                " ORDER BY id DESC LIMIT 1",
                (source_path,),
            ).fetchone()
            unchanged = pending is not None and (pending["size"], pending["mtime"]) == (
                size, mtime) and sha256 in (None, pending["sha256"])
            if pending and unchanged:
                # Seen again as it was (another machine's scan): nothing to refresh.
                job_id, refreshed = pending["id"], True
            elif pending:
                # New content deserves fresh tries; a running attempt keeps its count.
                db.execute(
                    "UPDATE jobs SET size=?, mtime=?,"
                    f" attempts=CASE WHEN state={sql.QUEUED} AND sha256 IS DISTINCT FROM ?"
                    " THEN 0 ELSE attempts END,"
                    f" error=CASE WHEN state={sql.QUEUED} AND sha256 IS DISTINCT FROM ?"
                    " THEN NULL ELSE error END, sha256=? WHERE id=?",
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
                job_id = db.execute(
                    "INSERT INTO jobs (source_path, file, rel_dir, sha256, size, mtime, state,"
                    " max_attempts, created_at, duplicate_of, finished_at)"
                    " VALUES (?,?,?,?,?,?,?,?,?,?,?) RETURNING id",
                    (source_path, file, rel_dir, sha256, size, mtime, str(state), max_attempts,
                     now, original["id"] if original else None, now if original else None),
                ).fetchall()[0]["id"]
                refreshed = False
        return self._job(int(job_id)), refreshed

    def add_failed(self, source_path: str, file: str, rel_dir: str, size: int, mtime: float,
                   error: str) -> Job | None:
        """Record a file that cannot even be queued (empty, unreadable) as failed at once.

        None when this very file (path, size, time) is recorded already: another
        machine on a shared inbox took it first, and sets it aside.
        """
        now = self.now()
        with self._tx() as db:
            self._serialize(db, source_path)
            if db.execute("SELECT 1 FROM jobs WHERE source_path=? AND size=? AND mtime=?",
                          (source_path, size, mtime)).fetchone():
                return None
            job_id = db.execute(
                "INSERT INTO jobs (source_path, file, rel_dir, size, mtime, state, attempts,"
                " max_attempts, created_at, finished_at, error, host)"
                f" VALUES (?,?,?,?,?,{sql.FAILED},1,1,?,?,?,?) RETURNING id",
                (source_path, file, rel_dir, size, mtime, now, now, error, self.host),
            ).fetchall()[0]["id"]
        return self._job(int(job_id))

    # -- the queue ---------------------------------------------------------------------------

    def next_runnable(self, now: float | None = None) -> Job | None:
        now = self.now() if now is None else now
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
        fence, token = self._fence(job_id)
        with self._tx() as db:
            original = db.execute(
                "SELECT o.id FROM jobs j JOIN jobs o ON o.sha256=j.sha256 AND o.id!=j.id"
                f" WHERE j.id=? AND j.state IN {sql.PENDING} AND o.state={sql.DONE}"
                " ORDER BY o.id LIMIT 1",
                (job_id,),
            ).fetchone()
            if original is None:
                return None
            db.execute(f"UPDATE jobs SET state={sql.DUPLICATE}, finished_at=?, duplicate_of=?,"
                       f" attempts={UNCOUNT}, lease_until=NULL WHERE id=?{fence}",
                       (self.now(), original["id"], job_id, *token))
        self._release(job_id)
        return self.get(job_id)

    def progress(self, job_id: int, percent: float, eta: float | None,
                 duration: float | None) -> None:
        fence, token = self._fence(job_id)
        with self._tx(durable=False) as db:  # a figure; the live one is in memory
            db.execute(
                "UPDATE jobs SET percent=?, eta_seconds=?, duration=COALESCE(?, duration)"
                f" WHERE id=?{fence}",
                (percent, eta, duration, job_id, *token),
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
        fence, token = self._fence(job_id)
        # Not flushed: the name is checked against the folder again whenever it is chosen.
        with self._tx(durable=False) as db:
            cur = db.execute(f"UPDATE jobs SET output_stem=? WHERE id=?{fence}",
                             (stem, job_id, *token))
            if fence and cur.rowcount == 0:
                raise ClaimLost(f"job {job_id} was taken over before its transcripts were "
                                "written")

    def finish(self, job_id: int, outputs: Sequence[str], duration: float | None,
               wall_seconds: float, language: str | None,
               language_probability: float | None = None,
               warnings: Sequence[str] = (), lines: Sequence[Line] = ()) -> None:
        """Record a job done, and its transcript in the search index in the same step.

        ClaimLost when another machine holds the job by now: nothing is recorded.
        """
        fence, token = self._fence(job_id)
        with self._tx() as db:
            cur = db.execute(
                f"UPDATE jobs SET state={sql.DONE}, finished_at=?, percent=100, eta_seconds=0,"
                " outputs=?, duration=?, wall_seconds=?, language=?, language_probability=?,"
                f" warnings=?, error=NULL, lease_until=NULL WHERE id=?{fence}",
                (self.now(), json.dumps(list(outputs)), duration, wall_seconds, language,
                 language_probability, json.dumps(list(warnings)), job_id, *token),
            )
            if fence and cur.rowcount == 0:
                raise ClaimLost(f"job {job_id} was taken over; its result is not recorded")
            db.execute("DELETE FROM chunks WHERE job_id=?", (job_id,))
            self._unindex(db, job_id)
            self._index(db, job_id, lines)
        self._release(job_id)

    def fail_attempt(self, job_id: int, error: str, retry_in: float | None) -> bool | None:
        """Record a failed attempt; requeue after `retry_in` s, or fail for good.

        True if final, False if requeued, None when the job was not running (nothing done),
        or is held by another machine by now.
        """
        fence, token = self._fence(job_id)
        now = self.now()
        with self._tx() as db:
            row = db.execute("SELECT attempts, max_attempts FROM jobs WHERE id=?"
                             f" AND state={sql.RUNNING}{fence}", (job_id, *token)).fetchone()
            if row is None:
                return None
            final = retry_in is None or row["attempts"] >= row["max_attempts"]
            if final:
                db.execute(
                    f"UPDATE jobs SET state={sql.FAILED}, finished_at=?, error=?, eta_seconds=NULL,"
                    f" lease_until=NULL WHERE id=? AND state={sql.RUNNING}",
                    (now, error, job_id),
                )
            else:
                db.execute(
                    f"UPDATE jobs SET state={sql.QUEUED}, error=?, next_attempt_at=?,"
                    f" eta_seconds=NULL, lease_until=NULL WHERE id=? AND state={sql.RUNNING}",
                    (error, now + (retry_in or 0), job_id),
                )
        self._release(job_id)
        return final

    def cancel(self, job_id: int) -> Job | None:
        """Cancel a queued or running job: it ends now, its file left where it is.

        Its finished chunks go, so a retry starts afresh. The file's size and time
        stay recorded: the same unchanged file is not taken again (`known_version`),
        while a changed one is new work. None when no queued or running job has this
        id (unknown, or ended already).
        """
        # A new token: whichever machine runs it loses its claim and writes nothing more.
        with self._tx() as db:
            cur = db.execute(
                f"UPDATE jobs SET state={sql.CANCELLED}, finished_at=?, eta_seconds=NULL,"
                " error=NULL, claim_token=claim_token+1, lease_until=NULL"
                f" WHERE id=? AND state IN {sql.PENDING}",
                (self.now(), job_id),
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
        fence, token = self._fence(job_id)
        with self._tx() as db:
            cur = db.execute(
                f"UPDATE jobs SET state={sql.QUEUED}, attempts={UNCOUNT}, percent=0,"
                " eta_seconds=NULL, next_attempt_at=?, size=COALESCE(?, size),"
                " mtime=COALESCE(?, mtime), sha256=COALESCE(?, sha256), lease_until=NULL"
                f" WHERE id=? AND state={sql.RUNNING}{fence}",
                (self.now() + delay if delay else 0, size, mtime, sha256, job_id, *token),
            )
            if changed and cur.rowcount:
                db.execute("DELETE FROM chunks WHERE job_id=?", (job_id,))
        self._release(job_id)

    def pending_for(self, source_path: str) -> bool:
        """Whether a job for this file is queued or running."""
        return self._one(
            f"SELECT 1 FROM jobs WHERE source_path=? AND state IN {sql.PENDING} LIMIT 1",
            (source_path,),
        ) is not None

    def requeue_interrupted(self) -> list[int]:
        """This machine's jobs left running by a crash or a stop: back to the queue, the
        attempt not counted. Another machine's running jobs are its own (the team queue)."""
        with self._tx() as db:
            rows = db.execute(
                f"UPDATE jobs SET state={sql.QUEUED}, attempts={UNCOUNT}, percent=0,"
                " eta_seconds=NULL, next_attempt_at=0, lease_until=NULL"
                f" WHERE state={sql.RUNNING} AND (host=? OR host IS NULL) RETURNING id",
                (self.host,)).fetchall()
        return sorted(int(r["id"]) for r in rows)

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
