"""Job states as SQL literals, built from JobState, so no query spells a state by hand.

A state misspelt inside a SQL string matches nothing and fails silently; these
names come from the enum, so a renamed or removed state breaks at import, and
`grep JobState` finds every query that depends on one. The values are the
enum's fixed identifiers, never user input, so quoting them here is safe.
"""

from __future__ import annotations

from voxtrald.states import PENDING_STATES, JobState


def literal(state: JobState) -> str:
    """`'queued'` for JobState.QUEUED: a SQL string literal of a state."""
    value = str(state)  # a StrEnum's str is its value
    if not value.isidentifier():
        raise ValueError(f"a job state must be a plain name, not {value!r}")
    return f"'{value}'"


def one_of(states: tuple[JobState, ...]) -> str:
    """`('queued','running')`: the right side of `state IN ...`."""
    return "(" + ",".join(literal(s) for s in states) + ")"


QUEUED = literal(JobState.QUEUED)
RUNNING = literal(JobState.RUNNING)
DONE = literal(JobState.DONE)
FAILED = literal(JobState.FAILED)
DUPLICATE = literal(JobState.DUPLICATE)
CANCELLED = literal(JobState.CANCELLED)
#: Jobs with work ahead of them.
PENDING = one_of(PENDING_STATES)
#: Jobs whose transcripts exist (a duplicate points at a done job's).
WITH_TRANSCRIPTS = one_of((JobState.DONE, JobState.DUPLICATE))
