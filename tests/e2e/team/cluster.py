"""A private PostgreSQL cluster for the team queue's tests, one per test module.

Imported by each test module of this folder (not a conftest.py: several test modules
elsewhere import the top-level `conftest` by name, which a second one would shadow).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.postgres import Cluster, running_cluster, server_bin


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    if server_bin() is None:
        pytest.skip("PostgreSQL's server programs (initdb, pg_ctl) are not installed; "
                    "`make test` installs them (packaging/system-packages.txt)")
    with running_cluster() as running:
        yield running


@pytest.fixture
def dsn(cluster: Cluster) -> str:
    """A fresh, empty database for one test."""
    return cluster.new_database()
