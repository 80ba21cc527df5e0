# ruff: noqa: F811 - pytest fixtures imported from tests.e2e.team.cluster are parameters here
"""Three real daemons, one shared inbox, one queue on PostgreSQL.

Each daemon runs as a user starts it (`python -m voxtrald run`) with its own
state folder and socket; the inbox, transcripts, processed and failed folders
are shared, as on a network folder. The checks read the queue itself (SQL)
and the shared folders, never a daemon's internals.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import time
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.conftest import DATA, DaemonProc
from tests.e2e.team.cluster import cluster, dsn  # noqa: F401 - fixtures
from tests.support.postgres import Cluster

FILES = 300
COPIES = 20  # of those, the same audio as another file under another name


def team_of(tmp_path: Path, dsn: str, names: list[str],
            extra: dict[str, dict[str, Any]] | None = None,
            kind: dict[str, type[DaemonProc]] | None = None) -> list[DaemonProc]:
    shared = tmp_path / "share"
    daemons = []
    for name in names:
        config: dict[str, dict[str, Any]] = {
            "queue": {"backend": dsn, "machine_name": name, "lease_seconds": 5.0,
                      "scan_seconds": 1.0},
            "engine": {"threads": 1, "speakers": "off"},
        }
        for section, body in (extra or {}).items():
            config.setdefault(section, {}).update(body)
        root = tmp_path / name
        root.mkdir()
        d = (kind or {}).get(name, DaemonProc)(root, config, None)
        d.inbox, d.transcripts = shared / "Inbox", shared / "Transcripts"
        d.processed, d.failed = shared / "Processed", shared / "Failed"
        daemons.append(d)
    return daemons


@pytest.fixture
def started() -> Iterator[list[DaemonProc]]:
    running: list[DaemonProc] = []
    yield running
    for d in running:
        d.end(20)


def meeting_on_alpha(tmp_path: Path, dsn: str, started: list[DaemonProc]
                     ) -> tuple[DaemonProc, DaemonProc]:
    """Alpha started with a 38-s meeting dropped (10-s chunks: checkpoints early); beta
    made, not started."""
    chunks = {"chunk_seconds_low": 10.0, "chunk_seconds_mid": 10.0, "chunk_seconds_high": 10.0}
    alpha, beta = team_of(tmp_path, dsn, ["alpha", "beta"], {"engine": chunks})
    started.append(alpha.start())
    alpha.drop(DATA / "story.flac", "meeting.flac")
    return alpha, beta


def running_on_alpha(dsn: str) -> list[dict[str, Any]]:
    return rows(dsn, "SELECT id FROM jobs WHERE state='running' AND host='alpha'")


def rows(dsn: str, sql: str) -> list[dict[str, Any]]:
    with psycopg.connect(dsn, options="-c search_path=voxtral") as conn:
        cur = conn.execute(sql)  # type: ignore[arg-type]
        names = [c.name for c in cur.description or ()]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def variant(source: Path, target: Path, n: int, seconds: float | None = None) -> None:
    """The same speech (its first `seconds`) with one sample nudged: other content, the
    same words."""
    with wave.open(str(source)) as w:
        params = w.getparams()
        frames = bytearray(w.readframes(params.nframes if seconds is None
                                        else int(seconds * params.framerate)))
    frames[-2 - 2 * n] ^= 0x01
    with wave.open(str(target), "wb") as out:
        out.setparams(params)
        out.writeframes(bytes(frames))


def drop_all(inbox: Path, staging: Path, files: list[Path]) -> None:
    inbox.mkdir(parents=True, exist_ok=True)
    for f in files:
        os.replace(f, inbox / f.name)


def test_three_daemons_transcribe_each_recording_exactly_once(
        tmp_path: Path, dsn: str, started: list[DaemonProc]) -> None:
    staging = tmp_path / "staging"
    staging.mkdir()
    originals = FILES - COPIES
    files = []
    for n in range(originals):
        # The first words only: the test is about the queue, the engine is tested elsewhere.
        variant(DATA / "fox.wav", staging / f"rec{n:03d}.wav", n, seconds=1.2)
        files.append(staging / f"rec{n:03d}.wav")
    for n in range(COPIES):  # the same audio again, under another name
        shutil.copyfile(staging / f"rec{n:03d}.wav", staging / f"again{n:03d}.wav")
        files.append(staging / f"again{n:03d}.wav")
    team = team_of(tmp_path, dsn, ["alpha", "beta", "gamma"])
    for d in team:
        started.append(d.start())
    drop_all(team[0].inbox, staging, files)

    def all_ended() -> list[dict[str, Any]] | None:
        jobs = rows(dsn, "SELECT id, file, state, host, sha256, duplicate_of, attempts"
                         " FROM jobs")
        ended = [j for j in jobs if j["state"] in ("done", "duplicate", "failed")]
        return jobs if len(ended) == FILES and len(jobs) == FILES else None

    jobs = team[0].wait_for(all_ended, 900, f"{FILES} files to end")
    by_state: dict[str, list[dict[str, Any]]] = {}
    for job in jobs:
        by_state.setdefault(job["state"], []).append(job)
    assert set(by_state) == {"done", "duplicate"}, {s: len(j) for s, j in by_state.items()}
    assert len(by_state["done"]) == originals and len(by_state["duplicate"]) == COPIES
    # Exactly once: one done job per content, every copy recorded against it.
    done_by_sha = {j["sha256"]: j for j in by_state["done"]}
    assert len(done_by_sha) == originals
    for copy in by_state["duplicate"]:
        assert done_by_sha[copy["sha256"]]["id"] == copy["duplicate_of"]
    assert {j["host"] for j in by_state["done"]} == {"alpha", "beta", "gamma"}
    outputs = sorted(p.name for p in team[0].transcripts.glob("*.json"))
    assert len(outputs) == originals and not any("(" in name for name in outputs)
    doc = json.loads((team[0].transcripts / "rec007.json").read_text())
    assert doc["machine"] == next(j["host"] for j in jobs if j["file"] == "rec007.wav")
    assert sorted(p.name for p in team[0].processed.iterdir()) == sorted(f.name for f in files)
    assert list(team[0].inbox.iterdir()) == []
    # The team view: every machine and the queue it shares.
    status = team[1].status()
    assert status["team"]["machine"] == "beta" and status["team"]["reachable"] is True
    assert {m["name"] for m in status["team"]["members"]} == {"alpha", "beta", "gamma"}
    assert status["queue"]["done"] == originals


def test_a_killed_machines_job_is_finished_by_another_and_not_written_over(
        tmp_path: Path, cluster: Cluster, dsn: str, started: list[DaemonProc]) -> None:
    alpha, beta = meeting_on_alpha(tmp_path, dsn, started)

    def checkpointed() -> float | None:
        found = rows(dsn, "SELECT j.host, max(c.end_seconds) AS reached FROM jobs j JOIN"
                          " chunks c ON c.job_id=j.id WHERE j.state='running' GROUP BY j.host")
        return found[0]["reached"] if found and found[0]["host"] == "alpha" else None

    alpha.wait_for(checkpointed, 120, "alpha to checkpoint a chunk of the meeting")
    alpha.kill()  # kill -9 mid-job: no goodbye, its claim just stops being renewed
    reached = max(r["end_seconds"] for r in rows(dsn, "SELECT end_seconds FROM chunks"))
    started.append(beta.start())
    (job,) = beta.wait_jobs(1, timeout=180)
    assert job["host"] == "beta" and job["attempts"] == 1
    doc = json.loads((beta.transcripts / "meeting.json").read_text())
    assert doc["machine"] == "beta"
    # Resumed from alpha's last checkpoint, not started over.
    assert doc["timing"]["resumed_at"] == pytest.approx(reached, abs=0.01)
    assert len(list(beta.transcripts.glob("meeting*.json"))) == 1
    assert "has not been heard from" in beta.log()
    written = {p.name: p.stat().st_mtime_ns for p in beta.transcripts.iterdir()}
    # The killed machine comes back: the job is done by another, it leaves it alone.
    alpha.start()
    started.append(alpha)
    alpha.wait_for(lambda: alpha.status()["team"]["members"], 30, "alpha's team view")
    assert alpha.job(job["id"])["state"] == "done" and alpha.job(job["id"])["host"] == "beta"
    assert {p.name: p.stat().st_mtime_ns for p in beta.transcripts.iterdir()} == written
    assert rows(dsn, "SELECT count(*) AS n FROM jobs")[0]["n"] == 1


def test_a_queue_away_for_30_seconds_loses_and_repeats_nothing(
        tmp_path: Path, cluster: Cluster, dsn: str, started: list[DaemonProc]) -> None:
    team = team_of(tmp_path, dsn, ["alpha", "beta"])
    for d in team:
        started.append(d.start())
    staging = tmp_path / "staging"
    staging.mkdir()
    first = []
    for n in range(6):
        variant(DATA / "fox.wav", staging / f"a{n}.wav", n)
        first.append(staging / f"a{n}.wav")
    drop_all(team[0].inbox, staging, first)
    team[0].wait_for(lambda: rows(dsn, "SELECT count(*) AS n FROM jobs WHERE state='done'"
                                       )[0]["n"] >= 2, 120, "the first transcripts")
    cluster.stop()
    problem = team[0].wait_for(
        lambda: [p for p in team[0].api("GET", "/api/health")[1].get("problems", [])
                 if "cannot be reached" in p], 30, "the outage in /api/health")
    assert "no new job is taken" in problem[0]
    later = []
    for n in range(6, 10):  # dropped while the queue is away: they wait in the inbox
        variant(DATA / "fox.wav", staging / f"a{n}.wav", n)
        later.append(staging / f"a{n}.wav")
    drop_all(team[0].inbox, staging, later)
    time.sleep(30)  # the outage itself: the scenario's length, not a wait for an event
    cluster.start()
    team[0].wait_for(lambda: rows(dsn, "SELECT count(*) AS n FROM jobs WHERE state='done'"
                                       )[0]["n"] == 10, 180, "every file done")
    jobs = rows(dsn, "SELECT file, state FROM jobs")
    assert sorted(j["file"] for j in jobs) == sorted(f.name for f in [*first, *later])
    assert len(list(team[0].transcripts.glob("*.json"))) == 10
    team[0].wait_for(lambda: team[0].api("GET", "/api/health")[1]["ok"], 30,
                     "health to clear")


class ReadOnlyShare(DaemonProc):
    """A daemon that sees the shared folder read-only (its own mount namespace)."""

    @property
    def argv(self) -> list[str]:
        share = str(self.inbox.parent)
        script = (f'mount --bind "{share}" "{share}" && '
                  f'mount -o remount,ro,bind "{share}" && exec "$@"')
        return ["unshare", "--mount", "sh", "-c", script, "sh", *super().argv]


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("unshare") is None,
                    reason="a read-only view of the share needs root and unshare")
def test_a_machine_that_cannot_write_the_share_leaves_the_work_to_the_others(
        tmp_path: Path, dsn: str, started: list[DaemonProc]) -> None:
    alpha, readonly = team_of(tmp_path, dsn, ["alpha", "beta"], kind={"beta": ReadOnlyShare})
    for folder in (alpha.inbox, alpha.transcripts, alpha.processed, alpha.failed):
        folder.mkdir(parents=True)
    started.append(readonly.start())
    staging = tmp_path / "staging"
    staging.mkdir()
    variant(DATA / "fox.wav", staging / "r1.wav", 1)
    drop_all(alpha.inbox, staging, [staging / "r1.wav"])
    reason = readonly.wait_for(lambda: readonly.status()["waiting_reason"], 60,
                               "the read-only machine to hold back")
    assert "cannot write to the shared inbox folder" in reason
    (queued,) = rows(dsn, "SELECT state, attempts FROM jobs")
    assert queued == {"state": "queued", "attempts": 0}
    started.append(alpha.start())
    (done,) = alpha.wait_jobs(1)
    assert done["host"] == "alpha" and done["attempts"] == 1
    assert "started" not in readonly.log()  # it never took the job


def test_a_machine_cut_off_past_its_lease_drops_its_job_when_it_comes_back(
        tmp_path: Path, dsn: str, started: list[DaemonProc]) -> None:
    alpha, beta = meeting_on_alpha(tmp_path, dsn, started)
    alpha.wait_for(lambda: running_on_alpha(dsn), 60, "alpha to take the meeting")
    assert alpha.proc is not None
    alpha.proc.send_signal(signal.SIGSTOP)  # cut off: it can neither renew nor write
    try:
        started.append(beta.start())
        (job,) = beta.wait_jobs(1, timeout=180)
    finally:
        alpha.proc.send_signal(signal.SIGCONT)
    assert job["host"] == "beta"
    written = {p.name: p.read_bytes() for p in beta.transcripts.iterdir()}
    alpha.wait_for(lambda: "another machine" in alpha.log(), 60,
                   "alpha to find its claim gone")
    # Alpha went on with the queue: idle, its late result nowhere.
    alpha.wait_for(lambda: alpha.status()["state"] == "idle", 30, "alpha to be idle")
    assert {p.name: p.read_bytes() for p in beta.transcripts.iterdir()} == written
    assert rows(dsn, "SELECT state, host FROM jobs") == [{"state": "done", "host": "beta"}]
    assert sorted(p.name for p in beta.processed.iterdir()) == ["meeting.flac"]


def test_a_job_cancelled_from_another_machine_stops_where_it_runs(
        tmp_path: Path, dsn: str, started: list[DaemonProc]) -> None:
    alpha, beta = meeting_on_alpha(tmp_path, dsn, started)
    (running,) = alpha.wait_for(lambda: running_on_alpha(dsn), 60, "alpha's job")
    started.append(beta.start())
    code, body = beta.api("POST", f"/api/jobs/{running['id']}/cancel")
    assert code == 200 and body["state"] == "cancelled"
    alpha.wait_for(lambda: "claim on it ended" in alpha.log(), 60,
                   "alpha to drop the cancelled job")
    alpha.wait_for(lambda: alpha.status()["state"] == "idle", 30, "alpha to be idle")
    assert rows(dsn, "SELECT state FROM jobs") == [{"state": "cancelled"}]
    assert list(alpha.transcripts.glob("meeting*")) == []
    assert [p.name for p in alpha.inbox.iterdir()] == ["meeting.flac"]  # left where it was
