"""Control API under load: this tree's server beside an older one, in one run.

The older server's code is read from git at run time into a temporary package,
never committed. Both parts alternate old and new, round after round, so the
noise of a shared machine falls on both alike; each round is printed, then
the medians side by side. Clients poll /api/status, each request on a new
connection as the tray's client does.

servers: both servers at once, each in its own process with the real router
  and a stand-in daemon; N clients poll one, then the other, flat out.
daemon: a real `voxtrald run` with each server: its CPU idle (no client, then
  one polling once a second), then N clients polling flat out and then at a
  steady rate while it transcribes copies of a speech file.

    python benchmarks/bench_api.py [--part servers|daemon|both] [--rounds 3] [--help]
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import multiprocessing as mp
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import psutil

from voxtrald.client.connection import Client, DaemonUnreachable

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_AUDIO = ROOT.parent / "shared" / "audio" / "jfk.flac"
OLD_PACKAGE = "vx_old_api"
# The daemon's CLI with OLD_PACKAGE's server put in place of this tree's before any import.
LAUNCHER = f"""
import sys
sys.path.insert(0, sys.argv.pop(1))
import voxtrald.api.server as new
from {OLD_PACKAGE} import server as old
for name in ("ApiServer", "ApiServerError", "AlreadyRunning"):
    setattr(new, name, getattr(old, name))
from voxtrald.cli import main
sys.exit(main(sys.argv[1:]))
"""


def old_server_package(ref: str, folder: Path) -> Path:
    """The API server of commit `ref` as a package of its own; returns the folder for sys.path."""
    package = folder / OLD_PACKAGE
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    for name in ("server.py", "http11.py"):
        try:
            text = subprocess.run(["git", "-C", str(ROOT), "show", f"{ref}:voxtrald/api/{name}"],
                                  check=True, capture_output=True, text=True).stdout
        except (OSError, subprocess.CalledProcessError) as exc:
            if name == "http11.py":
                continue  # a server without its own HTTP module: the tree's pieces serve it
            raise SystemExit(f"cannot read voxtrald/api/{name} at {ref} from git: {exc}") from exc
        text = re.sub(r"^from voxtrald\.api import endpoint, http11$",
                      f"from voxtrald.api import endpoint\nfrom {OLD_PACKAGE} import http11",
                      text, flags=re.M)
        # Modules the move into folders renamed: the old server reaches them by their new names.
        text = text.replace("from voxtrald.lockfile import", "from voxtrald.files.locks import")
        (package / name).write_text(text)
    return folder


def make_audio(source: Path, folder: Path, copies: int) -> list[Path]:
    """Distinct 16 kHz WAV files (different trailing silence), so none is a duplicate."""
    import av
    import numpy as np

    folder.mkdir(parents=True, exist_ok=True)
    with av.open(str(source)) as container:
        resampler = av.AudioResampler(format="s16", layout="mono", rate=16000)
        frames = [f for frame in container.decode(audio=0) for f in resampler.resample(frame)]
    pcm = np.concatenate([f.to_ndarray().reshape(-1) for f in frames]).astype("<i2").tobytes()
    out: list[Path] = []
    for i in range(copies):
        target = folder / f"talk{i:02d}.wav"
        with wave.open(str(target), "wb") as w:
            w.setparams((1, 2, 16000, 0, "NONE", "not compressed"))
            w.writeframes(pcm + b"\0\0" * (800 * (i + 1)))
        out.append(target)
    return out


def write_config(base: Path, sock: Path) -> Path:
    names = {"inbox": "inbox", "transcripts": "transcripts", "processed": "processed",
             "failed": "failed", "state_dir": "state"}
    for folder in names.values():
        (base / folder).mkdir(parents=True, exist_ok=True)
    paths = "".join(f'{key} = "{base / folder}"\n' for key, folder in names.items())
    cfg = base / "config.toml"
    cfg.write_text(f"[paths]\n{paths}[inbox]\nsettle_seconds = 0.3\n"
                   f'[updates]\ncheck_interval_hours = 0\n[api]\nsocket = "{sock}"\n',
                   encoding="utf-8")
    return cfg


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(DaemonUnreachable):
            if predicate():
                return
        time.sleep(0.1)
    raise SystemExit(f"timed out waiting for {what}")


def _poller(sock: str, stop_at: float, rate: float, out: mp.Queue) -> None:
    client = Client(sock, timeout=10)
    lat: list[float] = []
    errors = n = 0
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


def cpu_seconds(proc: psutil.Process) -> float:
    return float(sum(proc.cpu_times()[:2]))  # user + system


class Machine:
    """How busy the whole machine was over a phase: the daemon shares it with others."""

    def __init__(self) -> None:
        psutil.cpu_percent(interval=None)

    def __str__(self) -> str:
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        busy = psutil.cpu_percent(interval=None)
        return f"machine: {os.cpu_count()} CPUs {busy:.0f}% busy, load {load:.1f}"


def load_phase(sock: Path, pid: int, clients: int, seconds: float, rate: float
               ) -> dict[str, Any]:
    ctx = mp.get_context("fork") if sys.platform.startswith("linux") else mp.get_context("spawn")
    out: mp.Queue = ctx.Queue()
    daemon = psutil.Process(pid)
    before, machine = Client(sock).get("/api/status"), Machine()
    cpu0 = cpu_seconds(daemon)
    stop_at = time.monotonic() + seconds
    procs = [ctx.Process(target=_poller, args=(str(sock), stop_at, rate, out))
             for _ in range(clients)]
    for p in procs:
        p.start()
    results = [out.get(timeout=seconds + 60) for _ in procs]
    for p in procs:
        p.join()
    cpu, where = cpu_seconds(daemon) - cpu0, str(machine)
    after = Client(sock).get("/api/status")
    ms = [x * 1000 for r in results for x in r[0]]
    if not ms:
        raise SystemExit("no request succeeded")
    return {"ok": len(ms), "errors": sum(r[1] for r in results), "rps": len(ms) / seconds,
            "p50": pct(ms, 50), "p90": pct(ms, 90), "p99": pct(ms, 99), "max": max(ms),
            "cpu_ms": cpu * 1000 / len(ms), "states": f"{before['state']}->{after['state']}",
            "machine": where}


def idle_phase(sock: Path, pid: int, seconds: float) -> dict[str, Any]:
    proc = psutil.Process(pid)
    client = Client(sock)
    machine = Machine()
    # Baseline: the idle daemon with nobody polling.
    c0, t0 = cpu_seconds(proc), time.monotonic()
    time.sleep(seconds)
    base = (cpu_seconds(proc) - c0) / (time.monotonic() - t0) * 100
    c0, t0 = cpu_seconds(proc), time.monotonic()
    polls = 0
    while time.monotonic() - t0 < seconds:
        client.get("/api/status")
        polls += 1
        time.sleep(max(0.0, t0 + polls - time.monotonic()))
    polled = (cpu_seconds(proc) - c0) / (time.monotonic() - t0) * 100
    return {"base": base, "polled": polled, "machine": str(machine)}


class StandIn:
    """The daemon as /api/status sees it: an answer of the real shape, at once."""

    def __init__(self) -> None:
        from voxtrald.events import EventLog

        self.events = EventLog(capacity=50)

    def status(self) -> dict[str, Any]:
        folders = ("inbox", "transcripts", "processed", "failed")
        return {
            "version": "1.0.0", "app_name": "Voxtral Transcription",
            "instance": self.events.instance, "state": "transcribing", "paused": False,
            "waiting_reason": None,
            "queue": {"queued": 20, "running": 1, "done": 3, "failed": 0, "duplicate": 0,
                      "cancelled": 0},
            "current_job": {"id": 4, "file": "talk03.wav", "percent": 41.5, "eta_seconds": 3.2},
            "folders": {name: f"/home/user/Voxtral/{name}" for name in folders},
            "worker": {"loaded": True, "pid": 4242},
            "memory": {"level": "normal", "available_gb": 5.2, "total_gb": 15.5},
            "update": {"update_available": False, "current_version": "1.0.0"},
            "events_last_seq": self.events.last_seq,
        }


def serve(kind: str, sock: str, old_path: str) -> None:
    """The `kind` server with the stand-in, until stdin closes (the bench's child process)."""
    from voxtrald.api import core_routes
    from voxtrald.api.router import Router
    from voxtrald.config import ApiConfig

    sys.path.insert(0, old_path)
    server_mod = importlib.import_module(
        f"{OLD_PACKAGE}.server" if kind == "old" else "voxtrald.api.server")
    router = Router()
    core_routes.register(router, cast(Any, StandIn()))  # only /api/status is asked
    server = server_mod.ApiServer(Path(sock), router, ApiConfig())
    server.start()
    print("ready", flush=True)
    sys.stdin.read()
    server.stop()


def run_servers(args: argparse.Namespace, old_path: Path) -> dict[str, list[dict[str, Any]]]:
    folder = Path(tempfile.mkdtemp(prefix="vxbench-servers-", dir="/tmp"))
    procs: dict[str, tuple[subprocess.Popen[str], Path]] = {}
    runs: dict[str, list[dict[str, Any]]] = {"old": [], "new": []}
    try:
        for kind in ("old", "new"):
            sock = folder / kind / "api.sock"
            proc = subprocess.Popen(
                [sys.executable, __file__, "--serve", kind, str(sock), str(old_path)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            procs[kind] = (proc, sock)
            assert proc.stdout is not None
            if proc.stdout.readline().strip() != "ready":
                raise SystemExit(f"the {kind} server did not start")
        for r in range(1, args.server_rounds + 1):
            for kind in ("old", "new") if r % 2 else ("new", "old"):
                proc, sock = procs[kind]
                fig = load_phase(sock, proc.pid, args.clients, args.server_seconds, 0.0)
                runs[kind].append(fig)
                print(f"servers round {r} {kind}: {describe(fig)}", flush=True)
    finally:
        for proc, _ in procs.values():
            if proc.stdin is not None:
                proc.stdin.close()
            proc.wait(30)
        shutil.rmtree(folder, ignore_errors=True)
    return runs


def run_daemon(kind: str, args: argparse.Namespace, audio: list[Path], old_path: Path
               ) -> dict[str, Any]:
    """One daemon with the `kind` ("new" or "old") server: idle, then two load phases."""
    base = Path(tempfile.mkdtemp(prefix=f"vxbench-{kind}-", dir="/tmp"))
    sock = base / "run" / "api.sock"
    cfg = write_config(base, sock)
    argv = [sys.executable, "-m", "voxtrald"] if kind == "new" else \
        [sys.executable, "-c", LAUNCHER, str(old_path)]
    log_path = base / "daemon.log"
    with open(log_path, "wb") as log_file:
        daemon = subprocess.Popen([*argv, "run", "--config", str(cfg)], stdout=log_file,
                                  stderr=subprocess.STDOUT,
                                  env={**os.environ, "VOXTRAL_SOCKET": str(sock)})
    client = Client(sock)
    figures: dict[str, Any] = {}
    try:
        wait_until(lambda: bool(client.get("/api/health")["ok"]), 60, "the daemon to answer")
        figures["idle"] = idle_phase(sock, daemon.pid, args.idle_seconds)
        for f in audio:
            shutil.copy(f, base / "inbox" / f.name)
        wait_until(lambda: client.get("/api/status")["state"] == "transcribing", 120,
                   "a job to start")
        for phase, rate in (("unpaced", 0.0), ("paced", args.rate)):
            figures[phase] = load_phase(sock, daemon.pid, args.clients, args.seconds, rate)
    finally:
        daemon.send_signal(signal.SIGTERM)
        try:
            daemon.wait(30)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()
        if daemon.returncode not in (0, -signal.SIGTERM):
            print(f"{kind} daemon exited {daemon.returncode}; log:\n"
                  f"{log_path.read_text()[-3000:]}")
        shutil.rmtree(base, ignore_errors=True)
    return figures


def describe(f: dict[str, Any]) -> str:
    return (f"{f['ok']} ok, {f['errors']} errors, {f['rps']:.0f} req/s; ms p50 {f['p50']:.2f} "
            f"p90 {f['p90']:.2f} p99 {f['p99']:.2f} max {f['max']:.2f}; CPU of the serving process "
            f"{f['cpu_ms']:.3f} ms/request; {f['states']} ({f['machine']})")


def show(round_no: int, kind: str, fig: dict[str, Any], args: argparse.Namespace) -> None:
    idle = fig["idle"]
    print(f"daemon round {round_no} {kind}: idle CPU {idle['base']:.3f}% of a core with no "
          f"client, {idle['polled']:.3f}% polled once a second ({idle['machine']})")
    for phase, pace in (("unpaced", "as fast as they can"), ("paced", f"each {args.rate:g}/s")):
        print(f"  {args.clients} clients {pace}: {describe(fig[phase])}", flush=True)


Rows = list[tuple[str, Callable[[dict[str, Any]], float]]]


def summary(title: str, runs: dict[str, list[dict[str, Any]]], rows: Rows) -> None:
    print(f"\n{title}: medians over {len(runs['new'])} rounds      old        new   new/old"
          "   (raw: old | new)")
    for label, get in rows:
        old = [get(f) for f in runs["old"]]
        new = [get(f) for f in runs["new"]]
        mo, mn = statistics.median(old), statistics.median(new)
        ratio = f"{mn / mo:7.2f}" if mo else "      -"
        raw = " ".join(f"{v:.3g}" for v in old) + " | " + " ".join(f"{v:.3g}" for v in new)
        print(f"  {label:24} {mo:9.3f}  {mn:9.3f}  {ratio}   ({raw})")


SERVER_ROWS: Rows = [
    ("p99 ms", lambda f: f["p99"]), ("p50 ms", lambda f: f["p50"]),
    ("req/s", lambda f: f["rps"]), ("server CPU ms/request", lambda f: f["cpu_ms"])]
DAEMON_ROWS: Rows = [
    ("idle CPU %, no client", lambda f: f["idle"]["base"]),
    ("idle CPU %, polled 1/s", lambda f: f["idle"]["polled"]),
    ("unpaced p99 ms", lambda f: f["unpaced"]["p99"]),
    ("unpaced p50 ms", lambda f: f["unpaced"]["p50"]),
    ("unpaced req/s", lambda f: f["unpaced"]["rps"]),
    ("paced p99 ms", lambda f: f["paced"]["p99"]),
    ("paced p50 ms", lambda f: f["paced"]["p50"]),
    ("daemon CPU ms/request", lambda f: f["unpaced"]["cpu_ms"])]


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--idle-seconds", type=float, default=20.0,
                    help="length of each idle window (no client, then one client)")
    ap.add_argument("--rate", type=float, default=10.0,
                    help="per-client polls/s of the paced run (the first run is unpaced)")
    ap.add_argument("--audio", type=Path, default=DEFAULT_AUDIO)
    ap.add_argument("--copies", type=int, default=24)
    ap.add_argument("--old-ref", default="0ab7df3",
                    help="the commit whose API server (server.py + http11.py) is the old one")
    ap.add_argument("--part", choices=("servers", "daemon", "both"), default="both")
    ap.add_argument("--server-rounds", type=int, default=10)
    ap.add_argument("--server-seconds", type=float, default=2.0)
    ap.add_argument("--serve", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        serve(*args.serve)
        return 0

    work = Path(tempfile.mkdtemp(prefix="vxbench-", dir="/tmp"))
    try:
        old_path = old_server_package(args.old_ref, work / "old")
        if args.part in ("servers", "both"):
            summary("servers", run_servers(args, old_path), SERVER_ROWS)
        if args.part in ("daemon", "both"):
            audio = make_audio(args.audio, work / "audio", args.copies)
            runs: dict[str, list[dict[str, Any]]] = {"old": [], "new": []}
            for r in range(1, args.rounds + 1):
                for kind in ("old", "new") if r % 2 else ("new", "old"):
                    fig = run_daemon(kind, args, audio, old_path)
                    runs[kind].append(fig)
                    show(r, kind, fig, args)
            summary("daemon", runs, DAEMON_ROWS)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
