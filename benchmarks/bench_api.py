"""Control API under load: 20 clients polling /api/status while the daemon transcribes.

Starts a real `voxtrald run` on temporary folders, drops distinct copies of a
speech file into its inbox, and once a job is running lets N client processes
poll /api/status as fast as they can (each request on a new connection, as the
tray's client does). Prints requests/s and latency percentiles, then the
daemon's own CPU use while idle with one client polling once a second: the
cost a tray adds to a machine that is doing nothing.

    python benchmarks/bench_api.py [--clients 20] [--seconds 10] [--idle-seconds 20]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from voxtrald.client import Client, DaemonUnreachable

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_AUDIO = ROOT.parent / "shared" / "audio" / "jfk.flac"


def make_audio(source: Path | None, folder: Path, copies: int) -> list[Path]:
    """Distinct files (different trailing silence), so none is a duplicate of another."""
    folder.mkdir(parents=True, exist_ok=True)
    if source is None or not source.exists():
        source = folder / "speech.wav"
        text = "the quick brown fox jumps over the lazy dog. " * 4
        subprocess.run(["espeak-ng", "-w", str(source), text], check=True)
    out = []
    for i in range(copies):
        target = folder / f"talk{i:02d}.wav"
        subprocess.run(["sox", str(source), "-r", "16000", "-c", "1", str(target),
                        "pad", "0", f"{0.05 * (i + 1):.2f}"], check=True)
        out.append(target)
    return out


def write_config(base: Path, sock: Path) -> Path:
    cfg = base / "config.toml"
    folders = {name: base / name for name in ("inbox", "transcripts", "processed", "failed",
                                              "state")}
    for f in folders.values():
        f.mkdir(parents=True, exist_ok=True)
    cfg.write_text(
        "[paths]\n"
        f'inbox = "{folders["inbox"]}"\ntranscripts = "{folders["transcripts"]}"\n'
        f'processed = "{folders["processed"]}"\nfailed = "{folders["failed"]}"\n'
        f'state_dir = "{folders["state"]}"\n'
        "[inbox]\nsettle_seconds = 0.3\n"
        "[updates]\ncheck_interval_hours = 0\n"
        f'[api]\nsocket = "{sock}"\n',
        encoding="utf-8",
    )
    return cfg


def wait_until(predicate, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except DaemonUnreachable:
            pass
        time.sleep(0.1)
    raise SystemExit(f"timed out waiting for {what}")


def _poller(sock: str, stop_at: float, rate: float, out: mp.Queue) -> None:
    client = Client(sock, timeout=10)
    lat: list[float] = []
    errors = 0
    n = 0
    # Real pollers are not in step with each other: each starts at a random phase.
    start = time.monotonic() + (random.random() / rate if rate > 0 else 0.0)
    while time.monotonic() < stop_at:
        if rate > 0:
            n += 1
            time.sleep(max(0.0, start + n / rate - time.monotonic()))
        t0 = time.perf_counter()
        try:
            client.get("/api/status")
            lat.append(time.perf_counter() - t0)
        except Exception:
            errors += 1
    out.put((lat, errors))


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def load_phase(sock: Path, pid: int, clients: int, seconds: float, rate: float) -> None:
    ctx = mp.get_context("fork" if sys.platform.startswith("linux") else "spawn")
    out: mp.Queue = ctx.Queue()
    daemon = psutil.Process(pid)
    before = Client(sock).get("/api/status")
    cpu0 = cpu_seconds(daemon)
    stop_at = time.monotonic() + seconds
    procs = [ctx.Process(target=_poller, args=(str(sock), stop_at, rate, out))
             for _ in range(clients)]
    for p in procs:
        p.start()
    results = [out.get(timeout=seconds + 60) for _ in procs]
    for p in procs:
        p.join()
    cpu = cpu_seconds(daemon) - cpu0
    after = Client(sock).get("/api/status")
    lat = [x for r in results for x in r[0]]
    errors = sum(r[1] for r in results)
    if not lat:
        raise SystemExit("no request succeeded")
    ms = [x * 1000 for x in lat]
    pace = f"each {rate:g}/s" if rate > 0 else "each as fast as it can"
    print(f"load: {clients} clients ({pace}) x {seconds:g} s polling /api/status")
    print(f"  daemon       {before['state']} -> {after['state']}, jobs done "
          f"{before['queue']['done']} -> {after['queue']['done']}; "
          f"daemon CPU {cpu * 1000 / len(lat):.2f} ms per request (incl. its other threads)")
    if hasattr(os, "getloadavg"):
        print(f"  machine      {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} "
              "(other processes than the daemon and the pollers count too)")
    print(f"  requests     {len(lat)} ok, {errors} errors")
    print(f"  throughput   {len(lat) / seconds:.0f} requests/s")
    print(f"  latency ms   p50 {pct(ms, 50):.2f}  p90 {pct(ms, 90):.2f}  "
          f"p99 {pct(ms, 99):.2f}  max {max(ms):.2f}  mean {statistics.fmean(ms):.2f}")


def cpu_seconds(proc: psutil.Process) -> float:
    t = proc.cpu_times()
    return t.user + t.system


def idle_phase(sock: Path, pid: int, seconds: float) -> None:
    proc = psutil.Process(pid)
    client = Client(sock)
    # Baseline: the idle daemon with nobody polling.
    c0, t0 = cpu_seconds(proc), time.monotonic()
    time.sleep(seconds / 2)
    base = (cpu_seconds(proc) - c0) / (time.monotonic() - t0) * 100
    c0, t0 = cpu_seconds(proc), time.monotonic()
    polls = 0
    while time.monotonic() - t0 < seconds:
        client.get("/api/status")
        polls += 1
        time.sleep(max(0.0, t0 + polls - time.monotonic()))
    polled = (cpu_seconds(proc) - c0) / (time.monotonic() - t0) * 100
    print(f"idle: daemon CPU {base:.2f}% of one core with no client, "
          f"{polled:.2f}% with one client polling once a second ({polls} polls in "
          f"{seconds:g} s; difference {polled - base:+.2f} points)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--idle-seconds", type=float, default=20.0)
    ap.add_argument("--audio", type=Path, default=DEFAULT_AUDIO)
    ap.add_argument("--copies", type=int, default=24)
    ap.add_argument("--rate", type=float, default=10.0,
                    help="per-client polls/s of the paced run (the first run is unpaced)")
    ap.add_argument("--nice-worker", type=int, default=0,
                    help="renice the worker subprocess(es) once transcription starts")
    args = ap.parse_args()

    base = Path(tempfile.mkdtemp(prefix="vxbench-", dir="/tmp"))
    sock = base / "run" / "api.sock"
    cfg = write_config(base, sock)
    log_path = base / "daemon.log"
    with open(log_path, "wb") as log_file:
        daemon = subprocess.Popen(
            [sys.executable, "-m", "voxtrald", "run", "--config", str(cfg)],
            stdout=log_file, stderr=subprocess.STDOUT,
            env={**os.environ, "VOXTRAL_SOCKET": str(sock)},
        )
    client = Client(sock)
    try:
        wait_until(lambda: client.get("/api/health")["ok"], 60, "the daemon to answer")
        print(f"daemon pid {daemon.pid}, socket {sock}")
        idle_phase(sock, daemon.pid, args.idle_seconds)
        audio = make_audio(args.audio, base / "audio", args.copies)
        for f in audio:
            shutil.copy(f, base / "inbox" / f.name)
        wait_until(lambda: client.get("/api/status")["state"] == "transcribing", 120,
                   "a job to start")
        if args.nice_worker:
            for child in psutil.Process(daemon.pid).children(recursive=True):
                child.nice(args.nice_worker)
            print(f"(experiment: worker processes reniced to {args.nice_worker})")
        for rate in (0.0, args.rate):
            load_phase(sock, daemon.pid, args.clients, args.seconds, rate)
        st = client.get("/api/status")
        print(f"after load: state {st['state']}, queue {st['queue']}")
    finally:
        daemon.send_signal(signal.SIGTERM)
        try:
            daemon.wait(30)
        except subprocess.TimeoutExpired:
            daemon.kill()
        if daemon.returncode not in (0, -signal.SIGTERM):
            print(f"daemon exited {daemon.returncode}; log:\n{log_path.read_text()[-3000:]}")
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
