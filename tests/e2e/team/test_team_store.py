# ruff: noqa: F811 - pytest fixtures imported from tests.e2e.team.cluster are parameters here
"""The team queue's store on a real PostgreSQL server: claims, fencing, leases, clocks.

Several `TeamStore`s on one database stand for several machines; each is a
separate connection, as separate daemons are.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from tests.e2e.team.cluster import cluster, dsn  # noqa: F401 - fixtures
from tests.support.postgres import Cluster
from voxtrald.states import JobState
from voxtrald.store.chunks import Chunk
from voxtrald.store.errors import ClaimLost, StoreUnavailable
from voxtrald.store.pg import schema
from voxtrald.store.pg.team import TeamConflict, TeamStore
from voxtrald.store.search import Line


def machine(dsn: str, name: str, lease: float = 60.0) -> TeamStore:
    return TeamStore(dsn, name, f"test:{name}", lease)


def test_every_job_is_claimed_by_exactly_one_machine_when_all_race(dsn: str) -> None:
    stores = [machine(dsn, f"m{i}") for i in range(3)]
    for n in range(60):
        stores[0].add(f"/in/{n}.wav", f"{n}.wav", "", f"sha{n}", 10, 1.0, 3)
    won: dict[str, list[int]] = {s.host: [] for s in stores}
    start = threading.Barrier(len(stores))

    def work(store: TeamStore) -> None:
        start.wait()
        while (job := store.next_runnable()) is not None:
            if store.claim(job.id) is not None:
                won[store.host].append(job.id)
                store.finish(job.id, [], 1.0, 0.1, "en")

    threads = [threading.Thread(target=work, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    claimed = sorted(j for ids in won.values() for j in ids)
    assert claimed == sorted(set(claimed)) and len(claimed) == 60
    assert stores[0].counts()[JobState.DONE] == 60
    assert all(stores[0].get(j).host in won for j in claimed)  # type: ignore[union-attr]


def test_machines_seeing_one_file_record_one_job(dsn: str) -> None:
    stores = [machine(dsn, f"m{i}") for i in range(3)]
    start = threading.Barrier(3)
    results: list[tuple[int, bool]] = []

    def see(store: TeamStore) -> None:
        start.wait()
        job, refreshed = store.add("/in/a.wav", "a.wav", "", None, 10, 1.5, 3)
        results.append((job.id, refreshed))

    threads = [threading.Thread(target=see, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len({job_id for job_id, _ in results}) == 1
    assert sorted(refreshed for _, refreshed in results) == [False, True, True]
    # A file that cannot be queued is recorded failed once, and set aside by that machine.
    assert stores[1].add_failed("/in/e.wav", "e.wav", "", 0, 2.0, "empty") is not None
    assert stores[2].add_failed("/in/e.wav", "e.wav", "", 0, 2.0, "empty") is None


def test_a_machine_that_lost_its_lease_writes_nothing_and_the_next_resumes(
        dsn: str) -> None:
    a, b = machine(dsn, "a", lease=2.0), machine(dsn, "b", lease=2.0)
    job, _ = a.add("/in/long.wav", "long.wav", "", None, 10, 1.0, 3)
    assert a.claim(job.id) is not None and b.claim(job.id) is None
    assert a.set_content(job.id, "c0ffee") is None
    a.save_chunk(job.id, Chunk(0, 30.0, (), "en", 0.9), "c0ffee")
    deadline = time.monotonic() + 10
    while not (taken := b.reclaim_expired()):
        assert time.monotonic() < deadline, "the lease never ran out"
        time.sleep(0.2)
    assert taken == [(job.id, "a")]
    again = b.claim(job.id)
    assert again is not None and again.host == "b" and again.attempts == 1
    assert [c.end for c in b.chunks(job.id)] == [30.0]  # resumed, not started over
    # The machine that came back: every write is refused, nothing lands.
    assert a.renew([job.id]) == [job.id]
    assert not a.holds_claim(job.id)
    a.progress(job.id, 99.0, 1.0, 60.0)
    a.save_chunk(job.id, Chunk(1, 60.0, (), "en", 0.9), "c0ffee")
    assert a.fail_attempt(job.id, "late", None) is None
    with pytest.raises(ClaimLost):
        a.set_output_stem(job.id, "long")
    with pytest.raises(ClaimLost):
        a.finish(job.id, ["/t/long.txt"], 60.0, 1.0, "en")
    assert b.get(job.id).percent == 0  # type: ignore[union-attr]
    assert len(b.chunks(job.id)) == 1
    b.finish(job.id, ["/t/long.json"], 60.0, 1.0, "en")
    done = b.get(job.id)
    assert done is not None and done.state == JobState.DONE and done.host == "b"
    assert done.outputs == ("/t/long.json",)


def test_one_content_never_runs_on_two_machines(dsn: str) -> None:
    a, b = machine(dsn, "a"), machine(dsn, "b")
    first, _ = a.add("/in/x.wav", "x.wav", "", None, 10, 1.0, 3)
    copy, _ = a.add("/in/copy of x.wav", "copy of x.wav", "", None, 10, 1.0, 3)
    assert a.claim(first.id) and b.claim(copy.id)
    assert a.set_content(first.id, "same") is None
    assert b.set_content(copy.id, "same") == first.id  # it waits for the first
    b.requeue(copy.id, delay=0)
    a.finish(first.id, [], 1.0, 0.1, "en")
    assert b.claim(copy.id) is not None
    duplicate = b.duplicate_if_done(copy.id)
    assert duplicate is not None and duplicate.state == JobState.DUPLICATE
    assert duplicate.duplicate_of == first.id and duplicate.attempts == 0


def test_the_queue_goes_by_the_servers_clock_not_the_machines(
        dsn: str, monkeypatch: pytest.MonkeyPatch) -> None:
    right = machine(dsn, "right")
    job, _ = right.add("/in/r.wav", "r.wav", "", "r", 10, 1.0, 3)
    right.claim(job.id)
    right.fail_attempt(job.id, "try again", retry_in=300)
    real = time.time
    # Another machine whose clock runs ten minutes ahead.
    monkeypatch.setattr("voxtrald.store.pg.team.time.time", lambda: real() + 600)
    ahead = machine(dsn, "ten-minutes-ahead")
    assert abs(ahead.now() - real()) < 1.0  # it goes by the server's clock
    # By its own clock the retry would be due now; by the server's it is five minutes away.
    assert ahead.next_runnable() is None
    assert 290 < (ahead.next_wakeup() or 0) - ahead.now() <= 300
    assert ahead.reclaim_expired() == []


def test_a_pause_is_one_machines_own_and_the_team_is_listed(dsn: str) -> None:
    a, b = machine(dsn, "a"), machine(dsn, "b")
    a.join("1.0")
    b.join("1.0")
    a.set_setting("paused", "1")
    assert a.get_setting("paused") == "1" and b.get_setting("paused") is None
    b.beat(7, "warning")
    members = {m.name: m for m in a.members()}
    assert set(members) == {"a", "b"} and members["b"].running == 7
    assert members["b"].memory_level == "warning"
    with pytest.raises(TeamConflict, match="machine_name"):
        TeamStore(a._db.dsn, "a", "elsewhere:/state", 60.0).join("1.0")


def test_transcripts_of_every_machine_are_found(dsn: str) -> None:
    a, b = machine(dsn, "a"), machine(dsn, "b")
    job, _ = a.add("/in/m.wav", "m.wav", "", "m", 10, 1.0, 3)
    a.claim(job.id)
    a.finish(job.id, ["/t/m.json"], 5.0, 1.0, "fr",
             lines=[Line(0.0, 2.0, "La réunion budgétaire commence"),
                    Line(2.0, 4.0, "Budget review next week")])
    assert [h.text for h in b.search("reunion", 10)] == ["La réunion budgétaire commence"]
    assert [h.text for h in b.search('"budget review"', 10)] == ["Budget review next week"]
    assert len(b.search("budg*", 10)) == 2
    assert b.indexed_jobs() == 1


def test_a_newer_schema_stops_claims_and_a_foreign_schema_is_refused(
        cluster: Cluster, dsn: str) -> None:
    a = machine(dsn, "a")
    a.add("/in/n.wav", "n.wav", "", "n", 10, 1.0, 3)
    cluster.sql("UPDATE voxtral.voxtral_meta SET value='99' WHERE key='schema_version'",
                cluster.database_of(dsn))
    assert a.check_schema() is not None and "newer" in a.check_schema()  # type: ignore[operator]
    assert a.next_runnable() is None
    with pytest.raises(schema.SchemaError, match="newer"):
        machine(dsn, "b")
    other = cluster.new_database()
    name = cluster.database_of(other)
    cluster.sql("CREATE SCHEMA voxtral", name)
    cluster.sql("CREATE TABLE voxtral.jobs (id int)", name)
    with pytest.raises(schema.SchemaError, match="not Voxtral's"):
        machine(other, "a")


def test_a_server_that_goes_away_is_reported_and_found_again(tmp_path: Path) -> None:
    from tests.support.postgres import running_cluster

    with running_cluster() as own:
        store = machine(own.new_database(), "a")
        store.add("/in/o.wav", "o.wav", "", "o", 10, 1.0, 3)
        own.stop()
        with pytest.raises(StoreUnavailable):
            store.add("/in/p.wav", "p.wav", "", "p", 10, 1.0, 3)
        problem = store.health.problem()
        assert problem is not None and "cannot be reached" in problem
        own.start()
        job, _ = store.add("/in/p.wav", "p.wav", "", "p", 10, 1.0, 3)
        assert store.health.problem() is None
        assert store.counts()[JobState.QUEUED] == 2 and job.file == "p.wav"
