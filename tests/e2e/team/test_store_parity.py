# ruff: noqa: F811 - pytest fixtures imported from tests.e2e.team.cluster are parameters here
"""One machine alone behaves the same on either store: the single-machine store's own
tests (tests/unit/store/test_jobs.py), run again on PostgreSQL.

Every test there that takes only a `store` runs here with this module's
`store`: a TeamStore on a fresh database of the test cluster.
"""

from __future__ import annotations

import pytest

from tests.e2e.team.borrow import borrowed
from tests.e2e.team.cluster import cluster, dsn  # noqa: F401 - fixtures
from tests.unit.store import test_jobs
from voxtrald.store.pg.team import TeamStore


@pytest.fixture
def store(dsn: str) -> TeamStore:
    return TeamStore(dsn, "solo", "test:solo")


globals().update(borrowed(test_jobs))
