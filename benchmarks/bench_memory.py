"""The memory monitor's own cost, the daemon's idle footprint, and the model's memory factor.

1. CPU time per sample: MemoryMonitor.sample_once() in a loop, on the real
   /proc and on a fake VOXTRAL_PROCFS folder (target < 2 ms).
2. Idle CPU of a process running only a MemoryMonitor, over ~20 s, at the
   relaxed pace (5 s) and at the fast pace near the warning line (1 s)
   (target < 0.5 % of one core).
3. A real `voxtrald run`: its RSS with the worker loaded, and after the worker
   unloads on idle (target < 80 MB); then its idle CPU with the sampler on.
4. The model's memory factor: RSS a worker-like process gains loading the
   default model and transcribing a short file, over the model's file size —
   the figure behind memory.model_memory_factor.

    python benchmarks/bench_memory.py [--samples 2000] [--idle-seconds 20] [--skip-daemon]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from voxtrald.config import MemoryConfig  # noqa: E402
from voxtrald.events import EventLog  # noqa: E402
from voxtrald.memory import MemoryMonitor, available_bytes  # noqa: E402
from voxtrald.memory.fakeproc import write_meminfo_percent  # noqa: E402
from voxtrald.memory.figures import GiB, MiB  # noqa: E402

CHILD_ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def cpu_per_sample(samples: int) -> None:
    monitor = MemoryMonitor(MemoryConfig(), EventLog(), lambda: os.getppid())
    for label, call in (("sample_once", monitor.sample_once), ("available_bytes", available_bytes)):
        call()
        start = time.process_time()
        for _ in range(samples):
            call()
        per = (time.process_time() - start) / samples * 1000
        print(f"  {label:<16} {per:.3f} ms CPU per call ({samples} calls, "
              f"procfs={os.environ.get('VOXTRAL_PROCFS', '/proc')})")


IDLE_CHILD = """
import sys, time
from voxtrald.config import MemoryConfig
from voxtrald.events import EventLog
from voxtrald.memory import MemoryMonitor
m = MemoryMonitor(MemoryConfig(), EventLog(), lambda: None)
m.start()
print("ready", flush=True)
time.sleep(float(sys.argv[1]))
m.stop()
"""


def idle_cpu(seconds: float, env: dict[str, str], label: str) -> None:
    proc = subprocess.Popen([sys.executable, "-c", IDLE_CHILD, str(seconds)], env=env,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    proc.stdout.readline()
    ps = psutil.Process(proc.pid)
    before, t0 = ps.cpu_times(), time.monotonic()
    time.sleep(seconds - 0.5)
    after, t1 = ps.cpu_times(), time.monotonic()
    proc.wait()
    used = (after.user + after.system) - (before.user + before.system)
    print(f"  {label:<34} {100 * used / (t1 - t0):.3f} % of one core over {t1 - t0:.1f} s")


def daemon_rss(base: Path, idle_seconds: float) -> None:
    folders = {n: base / n for n in ("inbox", "transcripts", "processed", "failed", "state")}
    for f in folders.values():
        f.mkdir(parents=True, exist_ok=True)
    cfg = base / "config.toml"
    cfg.write_text("[engine]\nidle_unload_seconds = 3\n[updates]\ncheck_interval_hours = 0\n")
    sock = base / "voxtrald.sock"
    env = {**CHILD_ENV, "VOXTRAL_CONFIG": str(cfg), "XDG_STATE_HOME": str(base / "xdg")}
    argv = [sys.executable, "-m", "voxtrald", "run", "--inbox", str(folders["inbox"]),
            "--outbox", str(folders["transcripts"]), "--processed-dir", str(folders["processed"]),
            "--failed-dir", str(folders["failed"]), "--state-dir", str(folders["state"]),
            "--socket", str(sock)]
    log = (base / "daemon.log").open("wb")
    proc = subprocess.Popen(argv, env=env, stdout=log, stderr=log)
    try:
        ps = psutil.Process(proc.pid)
        loaded_rss = None
        deadline = time.monotonic() + 120
        # Worker loaded: the daemon has a child; unloaded: it has none again.
        while time.monotonic() < deadline and proc.poll() is None:
            kids = ps.children()
            if kids and loaded_rss is None:
                time.sleep(1.5)
                loaded_rss = ps.memory_info().rss, sum(k.memory_info().rss for k in ps.children())
            if loaded_rss is not None and not ps.children():
                break
            time.sleep(0.2)
        time.sleep(2)
        if proc.poll() is not None:
            print("  daemon exited early; see", base / "daemon.log")
            return
        rss = ps.memory_info().rss
        if loaded_rss:
            print(f"  daemon RSS with worker loaded     {loaded_rss[0] / MiB:.1f} MB "
                  f"(worker {loaded_rss[1] / MiB:.1f} MB)")
        print(f"  daemon RSS after worker unloaded  {rss / MiB:.1f} MB  (target < 80 MB)")
        uss = ps.memory_full_info().uss
        print(f"  daemon USS after worker unloaded  {uss / MiB:.1f} MB")
        before, t0 = ps.cpu_times(), time.monotonic()
        time.sleep(idle_seconds)
        after, t1 = ps.cpu_times(), time.monotonic()
        used = (after.user + after.system) - (before.user + before.system)
        print(f"  idle daemon CPU, sampler on       {100 * used / (t1 - t0):.3f} % of one core "
              f"over {t1 - t0:.1f} s (target < 0.5 %)")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


FACTOR_CHILD = """
import json, os, sys
import psutil
from voxtrald.models import model_files_bytes, resolve_model
p = psutil.Process()
base = p.memory_info().rss
from faster_whisper import WhisperModel
imported = p.memory_info().rss
model = WhisperModel(resolve_model("default"), device="cpu", compute_type="int8", cpu_threads=2)
loaded = p.memory_info().rss
peak = loaded
if len(sys.argv) > 1:
    segments, _ = model.transcribe(sys.argv[1], beam_size=5)
    for _ in segments:
        peak = max(peak, p.memory_info().rss)
    peak = max(peak, p.memory_info().rss)
print(json.dumps({"files": model_files_bytes("default"), "base": base, "imported": imported,
                  "loaded": loaded, "peak": peak}))
"""


def model_factor(audio: Path | None) -> None:
    argv = [sys.executable, "-c", FACTOR_CHILD] + ([str(audio)] if audio else [])
    out = subprocess.run(argv, env=CHILD_ENV, capture_output=True, text=True, timeout=300)
    if out.returncode != 0:
        print("  could not load the default model:", out.stderr.strip().splitlines()[-1:])
        return
    f = json.loads(out.stdout.strip().splitlines()[-1])
    files = f["files"] or 1
    print(f"  model files {files / MiB:.1f} MB; RSS: start {f['base'] / MiB:.0f} MB, "
          f"after imports {f['imported'] / MiB:.0f} MB, loaded {f['loaded'] / MiB:.0f} MB, "
          f"peak while transcribing {f['peak'] / MiB:.0f} MB")
    print(f"  (peak - start) / files = {(f['peak'] - f['base']) / files:.2f}  "
          f"(loaded - after imports) / files = {(f['loaded'] - f['imported']) / files:.2f}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=2000)
    ap.add_argument("--idle-seconds", type=float, default=20.0)
    ap.add_argument("--skip-daemon", action="store_true")
    ap.add_argument("--audio", type=Path, default=ROOT / "tests" / "data" / "fox.wav")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-memory-"))
    try:
        print("1. CPU time per sample")
        cpu_per_sample(args.samples)
        fake = tmp / "proc"
        write_meminfo_percent(fake, 16 * GiB, 50)
        os.environ["VOXTRAL_PROCFS"] = str(fake)
        cpu_per_sample(args.samples)
        del os.environ["VOXTRAL_PROCFS"]

        print("2. Idle CPU of a process running the monitor")
        idle_cpu(args.idle_seconds, CHILD_ENV, "real /proc, relaxed pace")
        near = tmp / "near"
        write_meminfo_percent(near, 16 * GiB, 75)
        idle_cpu(args.idle_seconds, {**CHILD_ENV, "VOXTRAL_PROCFS": str(near)},
                 "fake 75 % used, fast 1 s pace")

        if not args.skip_daemon:
            print("3. Daemon idle RSS")
            daemon_rss(tmp / "daemon", args.idle_seconds)
        print("4. Model memory factor (default model, int8)")
        model_factor(args.audio if args.audio.exists() else None)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
