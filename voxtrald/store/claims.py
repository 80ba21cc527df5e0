"""Claims on running jobs: which machine holds a job, by which token, until when.

A claim is one update that only matches a queued row, so two machines never
both win a job. Each claim gets a token one higher than the last; every
write about a running job names its token, so a machine that lost its claim
(its lease ran out while it was away, and another took the job over) writes
nothing more. Leases are renewed and expired only by the team queue
(`jobs/lease.py`); one machine alone holds its claims until it ends them.
"""

from __future__ import annotations

from voxtrald.store import sql_states as sql
from voxtrald.store.db import Database
from voxtrald.store.errors import ClaimLost
from voxtrald.store.job import Job

# One attempt given back (the file was not at fault), never below zero.
UNCOUNT = "CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END"


class Claims(Database):
    def get(self, job_id: int) -> Job | None:
        row = self._one("SELECT * FROM jobs WHERE id=?", (job_id,))
        return Job.from_row(row) if row else None

    def _job(self, job_id: int) -> Job:
        job = self.get(job_id)
        if job is None:
            raise KeyError(job_id)
        return job

    def claim(self, job_id: int) -> Job | None:
        """Take a queued job for this machine: running, one more attempt, a new token.

        None when it is no longer queued (another machine took it first): the
        update only matches a queued row, so two claims of one job never both win.
        """
        now = self.now()
        with self._tx() as db:
            rows = db.execute(
                f"UPDATE jobs SET state={sql.RUNNING}, attempts=attempts+1, started_at=?,"
                " percent=0, eta_seconds=NULL, error=NULL, host=?,"
                " claim_token=claim_token+1, lease_until=?"
                f" WHERE id=? AND state={sql.QUEUED} RETURNING claim_token",
                (now, self.host, now + self.lease_seconds, job_id),
            ).fetchall()
        if not rows:
            return None
        self._claims[job_id] = int(rows[0]["claim_token"])
        return self._job(job_id)

    def start(self, job_id: int) -> Job:
        """Claim a queued job that must be this machine's (ClaimLost when it is not queued)."""
        job = self.claim(job_id)
        if job is None:
            raise ClaimLost(f"job {job_id} is not queued any more")
        return job

    def holds_claim(self, job_id: int) -> bool:
        """Whether this machine still holds the running job (always, for a job it never
        claimed: one machine alone, or a job recovered at start-up)."""
        fence, token = self._fence(job_id)
        if not fence:
            return True
        return self._one(f"SELECT 1 FROM jobs WHERE id=? AND state={sql.RUNNING}{fence}",
                         (job_id, *token)) is not None

    def set_content(self, job_id: int, sha256: str) -> int | None:
        """Record the content of a job hashed after its claim (the team queue).

        Returns the id of another job running the same audio now, if any: this
        one then waits for it and ends as its duplicate, so one recording is
        never transcribed by two machines at once.
        """
        fence, token = self._fence(job_id)
        with self._tx() as db:
            self._serialize(db, sha256)
            other = db.execute(f"SELECT id FROM jobs WHERE sha256=? AND state={sql.RUNNING}"
                               " AND id!=? ORDER BY id LIMIT 1", (sha256, job_id)).fetchone()
            cur = db.execute(f"UPDATE jobs SET sha256=? WHERE id=?{fence}",
                             (sha256, job_id, *token))
            if fence and cur.rowcount == 0:
                raise ClaimLost(f"job {job_id} was taken over")
        return int(other["id"]) if other else None

    def renew(self, job_ids: list[int]) -> list[int]:
        """Extend the leases of the jobs this machine runs; returns those it lost."""
        lost = []
        for job_id in job_ids:
            fence, token = self._fence(job_id)
            if not fence:
                continue
            with self._tx(durable=False) as db:  # renewed again within a quarter lease
                cur = db.execute(f"UPDATE jobs SET lease_until=? WHERE id=? AND state={sql.RUNNING}"
                                 f"{fence}", (self.now() + self.lease_seconds, job_id, *token))
                if cur.rowcount == 0:
                    lost.append(job_id)
        return lost

    def reclaim_expired(self) -> list[tuple[int, str | None]]:
        """Running jobs whose lease ran out (their machine died or is cut off): queued again,
        the attempt not counted, their finished chunks kept to resume from.

        Returns (job id, the machine that held it)."""
        with self._tx() as db:
            rows = db.execute(
                f"UPDATE jobs SET state={sql.QUEUED}, attempts={UNCOUNT}, percent=0,"
                " eta_seconds=NULL, next_attempt_at=0, lease_until=NULL"
                f" WHERE state={sql.RUNNING} AND lease_until < ? RETURNING id, host",
                (self.now(),)).fetchall()
        return [(int(r["id"]), r["host"]) for r in rows]
