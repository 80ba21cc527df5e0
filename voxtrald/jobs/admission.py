"""The checks between a job's claim and its attempt: is the file there, what is in it,
has the same audio been transcribed meanwhile.

They run after the claim, so on a team only the machine that won the file
looks at it, reads it (to hash it) or moves it.
"""

from __future__ import annotations

import logging
import stat
from pathlib import Path

from voxtrald.files import hashing
from voxtrald.jobs.outcomes import Outcomes
from voxtrald.store.jobs import Job, JobStore

log = logging.getLogger("voxtrald")
# A file whose audio another machine is transcribing right now waits this long, then
# ends as its duplicate (or runs, if that one failed).
TWIN_WAIT_SECONDS = 10.0


def content(store: JobStore, outcomes: Outcomes, job: Job) -> Job | None:
    """The job with its content hash: read now, by the machine that claimed it, when
    intake did not hash (the team queue). None when it waits for a twin or failed."""
    if job.sha256 is not None:
        return job
    try:
        digest = hashing.sha256_of(Path(job.source_path))
    except (OSError, hashing.NotRegular) as exc:
        outcomes.fail(job.id, f"cannot read the source file: {exc}", permanent=False,
                      move=False)
        return None
    twin = store.set_content(job.id, digest)
    if twin is not None:
        log.info("%s is the same audio as job %d, running now; it waits for that one",
                 job.file, twin)
        store.requeue(job.id, delay=TWIN_WAIT_SECONDS)
        return None
    return store.get(job.id)


def now_a_duplicate(store: JobStore, outcomes: Outcomes, job: Job) -> bool:
    """The same audio finished meanwhile (a copy queued beside it): not run again."""
    duplicate = store.duplicate_if_done(job.id)
    if duplicate is None:
        return False
    log.info("%s is the same audio as job %d, done meanwhile; not transcribing it again",
             job.file, duplicate.duplicate_of)
    outcomes.disposal.finish(duplicate)
    return True


def readable(outcomes: Outcomes, job: Job) -> bool:
    """The source is still a plain file; a look that fails for a passing reason retries."""
    try:
        st = Path(job.source_path).lstat()
    except FileNotFoundError:
        outcomes.fail(job.id, "the source file disappeared before transcription",
                      permanent=True, move=False)
        return False
    except OSError as exc:  # a network folder away for a moment, a disk error
        outcomes.fail(job.id, f"cannot reach the source file: {exc.strerror or exc}",
                      permanent=False, move=False)
        return False
    if not stat.S_ISREG(st.st_mode):
        # A pipe would block the worker for good, a link could point anywhere.
        outcomes.fail(job.id, "the source is no longer a regular file (a link, a pipe "
                      "or a device took its place)", permanent=True)
        return False
    return True
