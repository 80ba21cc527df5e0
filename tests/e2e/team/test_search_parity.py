# ruff: noqa: F811 - pytest fixtures imported from tests.e2e.team.cluster are parameters here
"""Search finds the same on the team queue: tests/unit/store/test_search.py, run again on
PostgreSQL with the same transcripts (accents, phrases, prefixes, CJK, hostile queries)."""

from __future__ import annotations

import pytest

from tests.e2e.team.borrow import borrowed
from tests.e2e.team.cluster import cluster, dsn  # noqa: F401 - fixtures
from tests.unit.store import test_search
from voxtrald.store.pg.team import TeamStore


@pytest.fixture
def store(dsn: str) -> TeamStore:
    filled = test_search.filled(TeamStore(dsn, "solo", "test:solo"))
    assert isinstance(filled, TeamStore)
    return filled


globals().update(borrowed(test_search))
