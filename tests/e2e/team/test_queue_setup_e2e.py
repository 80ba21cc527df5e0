# ruff: noqa: F811 - pytest fixtures imported from tests.e2e.team.cluster are parameters here
"""Setting a team up: `voxtrald queue check`, the DSN file, and what a daemon says when
the queue it is given will not do. Each case through the real command line."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

from tests.conftest import DaemonProc, write_toml
from tests.e2e.team.cluster import cluster, dsn  # noqa: F401 - fixtures
from tests.support.postgres import Cluster


def queue_check(tmp_path: Path, backend: str, name: str = "alpha"
                ) -> subprocess.CompletedProcess[str]:
    config = tmp_path / f"check-{uuid.uuid4().hex[:6]}.toml"
    write_toml(config, {"queue": {"backend": backend, "machine_name": name}})
    return subprocess.run([sys.executable, "-m", "voxtrald", "queue", "check", "--config",
                           str(config)], capture_output=True, text=True, timeout=60)


def own_role(cluster: Cluster) -> str:
    """A role with only what the team needs: its own database, no other right."""
    role = "team_" + uuid.uuid4().hex[:8]
    cluster.sql(f"CREATE ROLE {role} LOGIN PASSWORD 'secret-{role}' NOSUPERUSER "
                "NOCREATEDB NOCREATEROLE")
    cluster.sql(f"CREATE DATABASE {role} OWNER {role}")
    return cluster.dsn(role, user=role, password=f"secret-{role}")


def test_check_says_what_a_new_team_queue_needs_and_then_who_is_in_it(
        tmp_path: Path, cluster: Cluster) -> None:
    dsn = own_role(cluster)
    fresh = queue_check(tmp_path, dsn)
    assert fresh.returncode == 0, fresh.stdout + fresh.stderr
    assert "schema:   none yet; the first daemon creates it" in fresh.stdout
    assert "secret" not in fresh.stdout  # the password is never shown
    (tmp_path / "alpha").mkdir()
    daemon = DaemonProc(tmp_path / "alpha", {"queue": {"backend": dsn,
                                                       "machine_name": "alpha"}}, None)
    daemon.start()
    try:
        joined = queue_check(tmp_path, dsn, name="beta")
    finally:
        daemon.stop()
    assert joined.returncode == 0, joined.stdout + joined.stderr
    assert "schema:   version 1" in joined.stdout
    assert "rights:   reads and writes the queue's tables" in joined.stdout
    assert "machines: alpha (idle" in joined.stdout
    assert "this machine joins as 'beta'" in joined.stdout


def test_a_wrong_password_or_host_is_one_clear_line_from_check_and_from_the_daemon(
        tmp_path: Path, cluster: Cluster) -> None:
    wrong = own_role(cluster).replace("secret-", "wrong-")
    checked = queue_check(tmp_path, wrong)
    assert checked.returncode == 1
    assert "password authentication failed" in checked.stdout
    nowhere = cluster.dsn("postgres").replace(str(cluster.socket_dir), str(tmp_path / "none"))
    assert "cannot reach" in queue_check(tmp_path, nowhere).stdout
    root = tmp_path / "d"
    root.mkdir()
    daemon = DaemonProc(root, {"queue": {"backend": wrong}}, None)
    daemon.start(wait_ready=False)
    assert daemon.proc is not None and daemon.proc.wait(60) != 0
    log = daemon.log()
    assert "cannot reach the team queue" in log and "password authentication failed" in log
    assert "Traceback" not in log and "wrong-" not in log


def test_the_dsn_may_live_in_a_private_file_but_not_a_readable_one(
        tmp_path: Path, cluster: Cluster) -> None:
    secret = tmp_path / "queue.dsn"
    secret.write_text("# the team queue\n" + own_role(cluster) + "\n")
    secret.chmod(0o644)
    readable = queue_check(tmp_path, str(secret))
    assert readable.returncode == 1 and "chmod 600" in readable.stdout
    secret.chmod(0o600)
    private = queue_check(tmp_path, str(secret))
    assert private.returncode == 0, private.stdout + private.stderr
    missing = queue_check(tmp_path, str(tmp_path / "nope.dsn"))
    assert missing.returncode == 1 and "does not exist" in missing.stdout


def test_a_role_without_rights_on_the_queue_is_told_which(
        tmp_path: Path, cluster: Cluster) -> None:
    owner = own_role(cluster)
    (tmp_path / "o").mkdir()
    daemon = DaemonProc(tmp_path / "o", {"queue": {"backend": owner}}, None)
    daemon.start()
    daemon.stop()
    stranger = "guest_" + uuid.uuid4().hex[:6]
    cluster.sql(f"CREATE ROLE {stranger} LOGIN PASSWORD 'pw-{stranger}'")
    db = cluster.database_of(owner)
    cluster.sql(f"GRANT USAGE ON SCHEMA voxtral TO {stranger}", db)
    checked = queue_check(tmp_path, cluster.dsn(db, user=stranger, password=f"pw-{stranger}"))
    assert checked.returncode == 1
    assert "may not read and write jobs" in checked.stdout
