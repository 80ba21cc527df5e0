"""How the progress bar and the ETA behave on a long file, measured through the real daemon.

Target: progress moves at least every 5 s on a long file, and the ETA shown at
25 % of a 15-minute file is within 25 % of the time it really still took.

A real `voxtrald run` (the default model and settings, as a user gets them)
on temp folders, warmed up on a silent file so the model load is not counted,
is given the 15-minute long-form file (benchmarks/make_longform.py, built from
../shared/audio); `/api/status` is polled every 0.5 s over the Unix socket
from the moment the file is dropped until its job is done. Prints:

- the longest time the percentage stood still while the job ran (from its start
  to the first move, between moves, and from the last move to done), and the
  number of changes seen;
- at 25 % and at 50 % (and 75 %): the ETA the daemon showed then, the time the
  job really still took, and the error in percent of the real time.

    python benchmarks/bench_progress.py [--minutes 15] [--workdir DIR] [--out FIGURES.json]

Needs the test extras (`make .venv/.test-installed`): the daemon is started
the way the end-to-end tests start it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import make_longform  # noqa: E402
from benchmarks.daemon_side import WARM_UP  # noqa: E402
from tests.conftest import DaemonProc  # noqa: E402
from voxtrald.client.connection import Client, DaemonUnreachable  # noqa: E402
from voxtrald.config import EngineConfig  # noqa: E402

POLL_SECONDS = 0.5
STILL_TARGET = 5.0  # seconds the bar may stand still at most
ETA_TARGET = 25.0  # percent of error allowed at 25 %
MARKS = (25.0, 50.0, 75.0)


@dataclass(frozen=True)
class Sample:
    """One poll: seconds since the job started, the percent and ETA the daemon showed."""

    t: float
    percent: float | None
    eta: float | None


def still_stretches(samples: Sequence[Sample], end: float) -> list[float]:
    """How long the percentage stood still each time: start to the first change, between
    changes, the last change to `end` (when the job was seen done)."""
    moves = [0.0]
    last: float | None = None
    for s in samples:
        if s.percent is None:
            continue
        if last is not None and s.percent != last:
            moves.append(s.t)
        last = s.percent
    moves.append(end)
    return [round(b - a, 2) for a, b in zip(moves, moves[1:], strict=False)]


def changes(samples: Sequence[Sample]) -> int:
    seen = [s.percent for s in samples if s.percent is not None]
    return sum(1 for a, b in zip(seen, seen[1:], strict=False) if a != b)


def eta_at(samples: Sequence[Sample], mark: float, end: float) -> dict[str, Any] | None:
    """The first poll at or past `mark` %: the ETA shown, the time really left, the error."""
    for s in samples:
        if s.percent is not None and s.percent >= mark:
            real = end - s.t
            error = None
            if s.eta is not None and real > 0:
                error = round(100.0 * (s.eta - real) / real, 1)
            return {"mark": mark, "percent": s.percent, "at": round(s.t, 1),
                    "eta_shown": s.eta, "real_left": round(real, 1), "error_percent": error}
    return None


def figures(samples: Sequence[Sample], end: float) -> dict[str, Any]:
    stills = still_stretches(samples, end)
    return {
        "wall_seconds": round(end, 1),
        "polls": len(samples),
        "progress_changes": changes(samples),
        "longest_still_seconds": max(stills) if stills else None,
        "stills_over_target": sum(1 for s in stills if s > STILL_TARGET),
        "eta": [e for m in MARKS if (e := eta_at(samples, m, end)) is not None],
    }


def verdicts(fig: dict[str, Any]) -> list[tuple[str, bool | None]]:
    longest = fig["longest_still_seconds"]
    at25 = next((e for e in fig["eta"] if e["mark"] == 25.0), None)
    error = at25["error_percent"] if at25 else None
    return [
        (f"progress moves at least every {STILL_TARGET:g} s",
         None if longest is None else longest <= STILL_TARGET),
        (f"ETA at 25 % within {ETA_TARGET:g} %",
         None if error is None else abs(error) <= ETA_TARGET),
    ]


def report(fig: dict[str, Any], trace: Sequence[Sample]) -> str:
    lines = [
        f"wall {fig['wall_seconds']:.1f} s from the job's start to done, "
        f"{fig['polls']} polls every {POLL_SECONDS:g} s",
        f"progress changes seen: {fig['progress_changes']}",
        f"longest time without a progress change: {fig['longest_still_seconds']} s "
        f"({fig['stills_over_target']} stretches over {STILL_TARGET:g} s)",
    ]
    for e in fig["eta"]:
        err = "n/a" if e["error_percent"] is None else f"{e['error_percent']:+.1f} %"
        lines.append(f"at {e['mark']:.0f} % (seen {e['percent']} % after {e['at']} s): "
                     f"ETA shown {e['eta_shown']} s, really {e['real_left']} s left, "
                     f"error {err}")
    lines.append("ETA along the run (percent, ETA shown, real time left):")
    end = fig["wall_seconds"]
    step = max(1, len(trace) // 20)
    for s in list(trace)[::step]:
        lines.append(f"  t={s.t:7.1f}  {s.percent!s:>5} %  eta {s.eta!s:>7}  real "
                     f"{end - s.t:7.1f}")
    for name, ok in verdicts(fig):
        lines.append(f"target: {name}: {'n/a' if ok is None else 'met' if ok else 'MISSED'}")
    return "\n".join(lines)


def follow(daemon: DaemonProc, name: str, timeout: float) -> tuple[list[Sample], float]:
    """Poll the status until the job of `name` is done; (samples, end), times from its start."""
    client = Client(daemon.socket, timeout=10)
    samples: list[Sample] = []
    started: float | None = None
    deadline = time.monotonic() + timeout
    next_poll = time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(max(0.0, next_poll - time.monotonic()))
        next_poll += POLL_SECONDS
        now = time.monotonic()
        try:
            status = client.get("/api/status")
        except DaemonUnreachable as exc:
            raise SystemExit(f"the daemon went away: {exc}\n{daemon.log()[-2000:]}") from exc
        job = status.get("current_job")
        if job and job.get("file") == name:
            started = now if started is None else started
            samples.append(Sample(now - started, job.get("percent"), job.get("eta_seconds")))
            continue
        if started is None:
            continue
        ended = [j for j in client.get("/api/jobs?limit=5")["jobs"] if j["file"] == name]
        if ended and ended[0]["state"] in ("done", "failed"):
            if ended[0]["state"] == "failed":
                raise SystemExit(f"{name} failed: {ended[0].get('error')}")
            return samples, now - started
    raise SystemExit(f"{name} did not finish within {timeout:.0f} s\n{daemon.log()[-2000:]}")


def run(audio: Path, workdir: Path, timeout: float) -> tuple[list[Sample], float]:
    defaults = EngineConfig()
    # The shipped engine settings (the tests' base config picks a smaller model).
    config = {"engine": {"model": defaults.model, "threads": defaults.threads},
              "outputs": {"formats": ["json"]}, "jobs": {"max_attempts": 1}}
    root = workdir / "daemon"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    daemon = DaemonProc(root, config, None)
    daemon.start(wait_ready=True)
    try:
        daemon.drop(WARM_UP, "warm-up.flac")
        daemon.wait_jobs(1, ("done",), timeout=600)
        daemon.drop(audio, audio.name)
        return follow(daemon, audio.name, timeout)
    finally:
        daemon.stop()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=15.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--audio-dir", type=Path, default=make_longform.AUDIO_DIR)
    ap.add_argument("--workdir", type=Path, help="keep the long-form file here; reused")
    ap.add_argument("--timeout", type=float, default=3 * 3600.0)
    ap.add_argument("--out", type=Path, help="write the figures and the trace to this JSON")
    args = ap.parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="voxtral-bench-progress-"))
    audio = workdir / f"longform-{args.minutes:g}min-seed{args.seed}.flac"
    _ref, manifest = make_longform.side_files(audio)
    if not (audio.exists() and manifest.exists()):
        print(f"building {audio.name} ...", flush=True)
        make_longform.build(audio, args.minutes, args.seed, args.audio_dir)
    print(f"transcribing {audio.name} with the default model ...", flush=True)
    load_before = os.getloadavg()
    trace, end = run(audio, workdir, args.timeout)
    fig = figures(trace, end)
    # Other work on the machine changes the speed under the ETA: say how busy it was.
    fig["load_average"] = {"before": round(load_before[0], 2),
                           "after": round(os.getloadavg()[0], 2), "cpus": os.cpu_count()}
    print(report(fig, trace))
    print(f"load average (1 min) before {fig['load_average']['before']}, after "
          f"{fig['load_average']['after']}, on {fig['load_average']['cpus']} CPUs")
    if args.out:
        args.out.write_text(json.dumps({**fig, "trace": [s.__dict__ for s in trace]}, indent=1)
                            + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
