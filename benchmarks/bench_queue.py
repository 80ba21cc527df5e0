"""The team queue's cost: PostgreSQL against SQLite, per job and with real daemons, in one run.

store: the exact store calls one job makes, from intake to its source moved
  (add, next_runnable, claim, the content hash recorded, duplicate_if_done,
  chunks, 10 progress updates, 3 checkpoints, the transcript's name, finish
  with 20 search lines, set_source; the team queue adds its lease thread's
  share: one renew and one reclaim_expired), N times on each backend,
  interleaved job by job so the load of a shared machine falls on all alike:
  SQLite (a JobStore on a temp file, WAL, synchronous=FULL) and PostgreSQL
  (a TeamStore on a private cluster this script starts, on a Unix socket,
  fsync on as on a real server; and the same with no flush at commit, the
  tests' setting). Then the claim alone under contention: three TeamStores,
  each on its own connection as three machines are, race in three threads
  over 300 queued jobs; every job must be claimed exactly once.
daemons: 30 copies of tests/data/fox.wav (3.3 s, each one sample apart, so
  none is a duplicate) dropped at once into a shared inbox watched by three
  `voxtrald run` at one engine thread each on the team queue, and into the
  inbox of one daemon at three engine threads on SQLite; tiny.en, speakers
  off, models warmed by one file each first. Wall time from the drop to the
  last job ended, polled through the API.

Figures and ratios are printed, measured in the same run; nothing is asserted
about time. On a network each PostgreSQL statement also costs a round trip,
which a local socket does not show: the statements per job are printed.

    python benchmarks/bench_queue.py [--part store|daemons|all] [--jobs 500] [--files 30]

Needs the test extras and PostgreSQL's server programs (`make test` installs both).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.peak_rss import PeakWatcher, descendants  # noqa: E402
from tests.conftest import DATA, DaemonProc  # noqa: E402
from tests.e2e.team.test_team_daemons_e2e import drop_all, rows, team_of, variant  # noqa: E402
from tests.support.postgres import Cluster, running_cluster  # noqa: E402
from tests.support.waiting import wait_for  # noqa: E402
from voxtrald.models import MODELS_DIR_ENV  # noqa: E402
from voxtrald.store.chunks import Chunk  # noqa: E402
from voxtrald.store.jobs import JobStore  # noqa: E402
from voxtrald.store.pg.connection import PgConnection  # noqa: E402
from voxtrald.store.pg.team import TeamStore  # noqa: E402
from voxtrald.store.search import Line  # noqa: E402
from voxtrald.transcripts.segments import Segment, Word  # noqa: E402

TARGET_MS = 20.0
PROGRESS_UPDATES = 10
CHECKPOINTS = 3
LINES = 20
WARM_JOBS = 20
RACERS = 3
RACE_JOBS = 300
ENDED = ("done", "duplicate", "failed")
WORDS = ["the", "quick", "brown", "fox", "jumps", "over", "the", "lazy", "dog", "while", "the",
         "budget", "review", "for", "the", "next", "quarter", "starts", "on", "monday", "with",
         "every", "team", "present"]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def spread(ms: list[float]) -> str:
    return (f"median {statistics.median(ms):6.2f}  p95 {pct(ms, 95):6.2f}  "
            f"mean {statistics.fmean(ms):6.2f}")


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} on {os.cpu_count()} CPUs"


# -- store: one job's store calls ------------------------------------------------------------


class CountingPg(PgConnection):
    """The store's PostgreSQL connection, counting statements: on a network, round trips
    (BEGIN and COMMIT count; an executemany counts once, psycopg pipelines it)."""

    statements = 0

    def execute(self, sql: str, args: Any = ()) -> Any:
        self.statements += 1
        return super().execute(sql, args)

    def executemany(self, sql: str, rows: Any) -> None:
        self.statements += 1
        super().executemany(sql, rows)

    @contextmanager
    def transaction(self) -> Iterator[PgConnection]:
        self.statements += 2
        with super().transaction() as db:
            yield db


@dataclass
class Backend:
    name: str
    store: JobStore
    per_job: list[float] = field(default_factory=list)
    per_call: dict[str, list[float]] = field(default_factory=dict)
    statements: int = 0

    @property
    def team(self) -> bool:
        return isinstance(self.store, TeamStore)

    def counted(self) -> int:
        db = getattr(self.store, "_db", None)
        return db.statements if isinstance(db, CountingPg) else 0


def team_store(dsn: str, host: str) -> TeamStore:
    store = TeamStore(dsn, host, f"bench:{host}", 60.0)
    store._db.close()
    store._db = CountingPg(dsn)
    return store


def chunk(index: int) -> Chunk:
    """A finished 30-second chunk as the engine hands it: four segments with their words."""
    segments = []
    for s in range(4):
        start = index * 30.0 + s * 7.0
        words = tuple(Word(w, start + i * 0.4, start + i * 0.4 + 0.35, 0.9)
                      for i, w in enumerate(WORDS[s:s + 9]))
        segments.append(Segment(start, start + 6.5, " ".join(w.word for w in words), words,
                                avg_logprob=-0.3, no_speech_prob=0.02, compression_ratio=1.4))
    return Chunk(index, index * 30.0 + 30.0, tuple(segments), "en", 0.98)


CHUNKS = [chunk(i) for i in range(CHECKPOINTS)]
SEARCH_LINES = [Line(i * 4.0, i * 4.0 + 3.5, " ".join(WORDS[i % 10:i % 10 + 8]))
                for i in range(LINES)]


def one_job(b: Backend, n: int, record: bool) -> None:
    """Job n through every store call a real job makes, in order; its time recorded."""
    store = b.store

    def call(name: str, method: Callable[..., Any], *args: Any) -> Any:
        t0 = time.perf_counter()
        try:
            out = method(*args)
        except Exception as exc:
            raise RuntimeError(f"{b.name}: store.{name}{args!r} failed on job {n}: "
                               f"{type(exc).__name__}: {exc}") from exc
        if record:
            b.per_call.setdefault(name, []).append(time.perf_counter() - t0)
        return out

    def expect(ok: bool, what: str) -> None:
        if not ok:
            raise RuntimeError(f"{b.name}: job {n}: {what}")

    file = f"rec{n:05d}.wav"
    sha = hashlib.sha256(f"{b.name}:{n}".encode()).hexdigest()
    t0 = time.perf_counter()
    job, refreshed = call("add", store.add, f"/inbox/{file}", file, "",
                          None if b.team else sha, 52_000 + n, 1.7e9 + n, 3)
    expect(not refreshed, "add found the file already queued")
    queued = call("next_runnable", store.next_runnable)
    expect(queued is not None and queued.id == job.id,
           f"next_runnable gave {queued and queued.id}, not {job.id}")
    expect(call("claim", store.claim, job.id) is not None, "claim lost with no rival")
    if b.team:  # the claimer hashes the file, records it, and reads the job back
        expect(call("set_content", store.set_content, job.id, sha) is None, "a twin runs")
        call("get", store.get, job.id)
    expect(call("duplicate_if_done", store.duplicate_if_done, job.id) is None,
           "taken for a duplicate")
    expect(call("chunks", store.chunks, job.id) == [], "chunks before any was saved")
    for k in range(PROGRESS_UPDATES):
        call("progress", store.progress, job.id, 10.0 * k, 9.0 - k, 90.0)
        if k % 3 == 2:
            call("save_chunk", store.save_chunk, job.id, CHUNKS[k // 3], sha)
        if b.team and k == 4:  # the lease thread's share of the job
            expect(call("renew", store.renew, [job.id]) == [], "its lease was lost")
            expect(call("reclaim_expired", store.reclaim_expired) == [],
                   "a lease ran out")
    taken = call("stems_in", store.stems_in, "", job.id)
    expect(file[:-4] not in taken, "its transcript name is taken")
    call("set_output_stem", store.set_output_stem, job.id, file[:-4])
    call("finish", store.finish, job.id, [f"/out/{file[:-4]}.{ext}" for ext in
                                          ("txt", "srt", "vtt", "json")],
         90.0, 4.2, "en", 0.98, (), SEARCH_LINES)
    call("set_source", store.set_source, job.id, f"/processed/{file}")
    if record:
        b.per_job.append(time.perf_counter() - t0)


def store_part(cluster: Cluster, jobs: int) -> None:
    print(f"\n== store: {jobs} jobs per backend, interleaved job by job, after {WARM_JOBS} "
          f"warm-up jobs each ({load()})", flush=True)
    folder = Path(tempfile.mkdtemp(prefix="vxbench-queue-", dir="/tmp"))
    quick = cluster.new_database()
    cluster.sql(f"ALTER DATABASE {cluster.database_of(quick)} SET synchronous_commit = off")
    backends = [
        Backend("sqlite", JobStore(folder / "state" / "jobs.db", host="bench")),
        Backend("postgres", team_store(cluster.new_database(), "bench")),
        Backend("postgres, no flush", team_store(quick, "bench")),
    ]
    try:
        for n in range(WARM_JOBS + jobs):
            record = n >= WARM_JOBS
            if n == WARM_JOBS:
                for b in backends:
                    b.statements = b.counted()
            for i in range(len(backends)):
                one_job(backends[(n + i) % len(backends)], n, record)
        for b in backends:
            b.statements = b.counted() - b.statements
        show_store(backends, jobs)
    finally:
        for b in backends:
            b.store.close()
        shutil.rmtree(folder, ignore_errors=True)


def show_store(backends: list[Backend], jobs: int) -> None:
    sqlite = backends[0]
    base = statistics.median(sqlite.per_job)
    tenth = max(1, jobs // 10)
    print("  each job: add, next_runnable, claim, [set_content, get], duplicate_if_done, "
          f"chunks, {PROGRESS_UPDATES} x progress, {CHECKPOINTS} x save_chunk, "
          f"[renew, reclaim_expired], stems_in, set_output_stem, finish ({LINES} lines), "
          "set_source  ([...]: team queue only)")
    print("  sqlite: WAL, synchronous=FULL; postgres: private cluster on a Unix socket, "
          "fsync on; 'no flush': synchronous_commit=off (the tests' cluster runs fsync=off)")
    print(f"\n  ms per job           {'median':>7} {'p95':>7} {'mean':>7}   first {tenth}"
          f"  last {tenth}   x sqlite (median)")
    for b in backends:
        ms = [x * 1000 for x in b.per_job]
        ratio = statistics.median(b.per_job) / base
        print(f"  {b.name:<20} {statistics.median(ms):7.2f} {pct(ms, 95):7.2f} "
              f"{statistics.fmean(ms):7.2f}   {statistics.median(ms[:tenth]):8.2f}"
              f"  {statistics.median(ms[-tenth:]):7.2f}   {ratio:6.2f}")
    for b in backends[1:]:
        print(f"  {b.name}: {b.statements / jobs:.1f} statements per job, each a round trip "
              "on a network (not measured here: add that many round-trip times)")
    pg = backends[1]
    median = statistics.median(pg.per_job) * 1000
    print(f"  target: PostgreSQL under {TARGET_MS:.0f} ms per job (claim + records), median "
          f"{median:.2f} ms on a local socket: {'met' if median < TARGET_MS else 'MISSED'}")
    print("\n  mean ms per call     calls/job " + " ".join(f"{b.name:>18}" for b in backends)
          + "   postgres/sqlite")
    for name, durations in pg.per_call.items():
        cells = []
        for b in backends:
            got = b.per_call.get(name)
            cells.append(f"{statistics.fmean(got) * 1000:18.3f}" if got else f"{'-':>18}")
        lite = sqlite.per_call.get(name)
        times = f"{statistics.fmean(durations) / statistics.fmean(lite):8.2f}" if lite \
            else f"{'-':>8}"
        print(f"  {name:<20} {len(durations) / jobs:9.0f} {' '.join(cells)}   {times}")


# -- store: the claim under contention -------------------------------------------------------


def contention_part(cluster: Cluster) -> None:
    dsn = cluster.new_database()
    stores = [TeamStore(dsn, f"m{i}", f"bench:m{i}", 60.0) for i in range(RACERS)]
    print(f"\n== claim under contention: {RACERS} TeamStores (a connection each) in "
          f"{RACERS} threads race over {RACE_JOBS} queued jobs ({load()})", flush=True)
    try:
        for n in range(RACE_JOBS):
            stores[0].add(f"/inbox/race{n:04d}.wav", f"race{n:04d}.wav", "", None, 10, 1.0, 3)
        won: dict[str, list[int]] = {s.host: [] for s in stores}
        took: dict[bool, list[float]] = {True: [], False: []}
        start = threading.Barrier(RACERS)
        failures: list[str] = []
        lock = threading.Lock()

        def race(store: TeamStore) -> None:
            start.wait()
            try:
                while (job := store.next_runnable()) is not None:
                    t0 = time.perf_counter()
                    got = store.claim(job.id)
                    spent = time.perf_counter() - t0
                    with lock:
                        took[got is not None].append(spent)
                    if got is not None:
                        won[store.host].append(job.id)
            except Exception as exc:
                failures.append(f"{store.host}: {type(exc).__name__}: {exc}")

        threads = [threading.Thread(target=race, args=(s,)) for s in stores]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
        if failures:
            raise RuntimeError("claim under contention failed: " + "; ".join(failures))
        claimed = [j for ids in won.values() for j in ids]
        recorded = rows(dsn, "SELECT id, state, host, claim_token FROM jobs")
        by_id = {r["id"]: r for r in recorded}
        once = (len(claimed) == len(set(claimed)) == RACE_JOBS == len(recorded)
                and all(r["state"] == "running" and r["claim_token"] == 1 for r in recorded)
                and all(by_id[j]["host"] == host for host, ids in won.items() for j in ids))
        shares = ", ".join(f"{host} {len(ids)}" for host, ids in won.items())
        print(f"  claim() calls {len(took[True]) + len(took[False])}: {len(took[True])} won, "
              f"{len(took[False])} lost to another machine ({shares})")
        print(f"  each job claimed exactly once: {'yes' if once else 'NO'} ({len(claimed)} won,"
              f" {len(set(claimed))} distinct, {len(recorded)} jobs; every one running, "
              "claim_token 1, held by its winner)" if once else
              f"  each job claimed exactly once: NO: {len(claimed)} won, "
              f"{len(set(claimed))} distinct, {len(recorded)} jobs in the queue")
        for label, values in (("won", took[True]), ("lost", took[False]),
                              ("all", took[True] + took[False])):
            if values:
                print(f"  ms per claim, {label:<4}  {spread([x * 1000 for x in values])}")
        print(f"  {RACE_JOBS} jobs claimed in {wall:.2f} s: {RACE_JOBS / wall:.0f} claims/s "
              f"over the team, {wall * 1000 / RACE_JOBS:.2f} ms of wall time per job "
              "(next_runnable + claim, lost attempts included)")
    finally:
        for s in stores:
            s.close()


# -- daemons ---------------------------------------------------------------------------------


def recordings(folder: Path, files: int, warm: int) -> tuple[list[Path], list[Path]]:
    """`files` recordings and `warm` warm-up ones, all distinct content (one sample apart)."""
    folder.mkdir(parents=True)
    made = []
    for n in range(files + warm):
        name = f"rec{n:03d}.wav" if n < files else f"warm{n - files}.wav"
        variant(DATA / "fox.wav", folder / name, n)
        made.append(folder / name)
    return made[:files], made[files:]


def tree_pids(daemons: list[DaemonProc]) -> list[int]:
    pids = []
    for d in daemons:
        if d.proc is not None and d.proc.poll() is None:
            pids += [d.proc.pid, *descendants(d.proc.pid)]
    return pids


def cpu_seconds(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        with suppress(psutil.Error):
            times = psutil.Process(pid).cpu_times()
            total += times.user + times.system
    return total


def server_pids(cluster: Cluster) -> list[int]:
    try:
        postmaster = int((cluster.data / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return []
    return [postmaster, *descendants(postmaster)]


def ended(d: DaemonProc) -> int:
    queue = d.status()["queue"]
    return sum(int(queue.get(state, 0)) for state in ENDED)


def warm_one(d: DaemonProc, source: Path, before: int) -> None:
    d.drop(source)
    d.wait_for(lambda: ended(d) > before, 300, f"the warm-up file {source.name}")


def timed_run(daemons: list[DaemonProc], files: list[Path], staging: Path,
              cluster: Cluster | None) -> dict[str, Any]:
    """Drop every file at once; wall time to the last job ended, CPU and memory spent."""
    first = daemons[0]
    staging.mkdir()
    for f in files:
        shutil.copyfile(f, staging / f.name)
    expected = ended(first) + len(files)
    pids = tree_pids(daemons)
    server = server_pids(cluster) if cluster else []
    cpu0, db0 = cpu_seconds(pids), cpu_seconds(server)
    with PeakWatcher(lambda: tree_pids(daemons)) as peak:
        t0 = time.perf_counter()
        drop_all(first.inbox, staging, [staging / f.name for f in files])
        wait_for(lambda: ended(first) >= expected, 1800, f"{len(files)} files to end",
                 interval=0.05)
        wall = time.perf_counter() - t0
    return {"wall": wall, "cpu": cpu_seconds(pids) - cpu0,
            "db_cpu": cpu_seconds(server) - db0, "peak_mb": peak.peak_mb}


def stop_all(daemons: list[DaemonProc]) -> None:
    for d in daemons:
        if d.proc is not None and d.proc.poll() is None:
            d.proc.send_signal(signal.SIGTERM)
    for d in daemons:
        if d.proc is not None:
            try:
                d.proc.wait(30)
            except subprocess.TimeoutExpired:
                d.kill()


def one_daemon(work: Path, files: list[Path], warm: Path) -> dict[str, Any]:
    root = work / "single"
    root.mkdir()
    d = DaemonProc(root, {"engine": {"threads": RACERS, "speakers": "off",
                                     "idle_unload_seconds": 86400.0}}, None)
    try:
        d.start()
        warm_one(d, warm, 0)
        fig = timed_run([d], files, root / "staging", None)
        jobs = [j for j in d.jobs() if j["file"].startswith("rec")]
        fig["states"] = sorted(j["state"] for j in jobs)
        return fig
    finally:
        stop_all([d])


def three_daemons(work: Path, cluster: Cluster, files: list[Path], warm: list[Path]
                  ) -> dict[str, Any]:
    dsn = cluster.new_database()
    (work / "team").mkdir()
    # The queue's shipped lease and scan; the inbox as the single daemon has it.
    team = team_of(work / "team", dsn, ["alpha", "beta", "gamma"],
                   {"queue": {"lease_seconds": 60.0, "scan_seconds": 10.0},
                    "engine": {"idle_unload_seconds": 86400.0}})
    try:
        for d in team:
            d.start()
            d.api("POST", "/api/pause")
        # Each warms its own model: the others are paused meanwhile.
        for i, (d, source) in enumerate(zip(team, warm, strict=True)):
            d.api("POST", "/api/resume")
            warm_one(d, source, i)
            d.api("POST", "/api/pause")
        hosts = {r["file"]: r["host"] for r in rows(dsn, "SELECT file, host FROM jobs")}
        for d, source in zip(team, warm, strict=True):
            if hosts.get(source.name) != d.config_path.parent.name:
                raise RuntimeError(f"warm-up {source.name} ran on {hosts.get(source.name)}")
            if not d.status()["worker"]["loaded"]:
                raise RuntimeError(f"{d.config_path.parent.name}'s model is not loaded")
        for d in team:
            d.api("POST", "/api/resume")
        fig = timed_run(team, files, work / "team" / "staging", cluster)
        jobs = rows(dsn, "SELECT file, state, host FROM jobs WHERE file LIKE 'rec%'")
        fig["states"] = sorted(j["state"] for j in jobs)
        fig["hosts"] = {name: sum(1 for j in jobs if j["host"] == name)
                        for name in ("alpha", "beta", "gamma")}
        return fig
    finally:
        stop_all(team)


def daemons_part(cluster: Cluster, count: int) -> None:
    print(f"\n== daemons: {count} recordings of fox.wav (3.3 s), tiny.en, speakers off "
          f"({load()})", flush=True)
    work = Path(tempfile.mkdtemp(prefix="vxbench-daemons-", dir="/tmp"))
    os.environ.setdefault(MODELS_DIR_ENV, str(work / "models"))
    try:
        files, warm = recordings(work / "audio", count, RACERS + 1)
        single = one_daemon(work, files, warm[-1])
        print(f"  one daemon, {RACERS} engine threads, SQLite: {describe(single, count)}",
              flush=True)
        team = three_daemons(work, cluster, files, warm[:RACERS])
        print(f"  {RACERS} daemons, 1 engine thread each, PostgreSQL: {describe(team, count)}"
              f"; files per daemon {team['hosts']}; PostgreSQL server CPU "
              f"{team['db_cpu']:.1f} s", flush=True)
        for side, fig in (("one daemon", single), ("team", team)):
            done = fig["states"].count("done")
            print(f"  {side}: {done} of {count} files done" + (
                "" if done == count == len(fig["states"]) else f", ended {fig['states']}"))
        ratio = single["wall"] / team["wall"]
        print(f"  team / one daemon, files per minute: {ratio:.2f}; CPU seconds per file: "
              f"{(team['cpu'] + team['db_cpu']) / (single['cpu'] or 1):.2f} "
              "(the team's with its PostgreSQL server)")
        cores = os.cpu_count() or 1
        print(f"  this machine has {cores} cores: three daemons at one engine thread each and "
              f"one daemon at three threads both ask for 3 busy threads, more than {cores} "
              "cores hold, so neither side can go faster than these cores allow. The ratio is "
              "no speed-up a team of machines would give (each brings its own cores): on the "
              "same cores it weighs what the team costs (its queue on PostgreSQL, whose server "
              "runs here too, three daemons, three copies of the model: see RSS) against how "
              "each side spends the cores (three files on one thread each, or one file on "
              "three threads).")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def describe(fig: dict[str, Any], count: int) -> str:
    return (f"{fig['wall']:.1f} s from drop to last done, {count * 60 / fig['wall']:.1f} "
            f"files/min; CPU {fig['cpu']:.1f} s ({fig['cpu'] / count:.2f} s/file); peak RSS of "
            f"daemons and workers {fig['peak_mb']:.0f} MB")


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--part", choices=("store", "daemons", "all"), default="all")
    ap.add_argument("--jobs", type=int, default=500, help="jobs per backend (store part)")
    ap.add_argument("--files", type=int, default=30, help="recordings (daemons part)")
    args = ap.parse_args()
    print(f"bench_queue: {load()}; the machine may be shared with other work, so every "
          "figure moves with its load")
    with running_cluster(durable=True) as cluster:
        if args.part in ("store", "all"):
            store_part(cluster, args.jobs)
            contention_part(cluster)
        if args.part in ("daemons", "all"):
            daemons_part(cluster, args.files)
    print(f"\nbench_queue done: {load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
