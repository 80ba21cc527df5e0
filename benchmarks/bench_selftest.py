"""The self-check, again and again with every CPU busy: does it ever refuse a good version?

Runs `voxtrald selftest --model M --json` N times per model while one busy
loop per CPU runs beside it, and prints how many passed, with the text heard
and the time of each. A self-check that fails under load would keep a good
update from ever being applied.

    python benchmarks/bench_selftest.py [--models tiny.en default] [--runs 20]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import subprocess
import sys
import time


def burn(stop: mp.synchronize.Event) -> None:  # type: ignore[name-defined]
    x = 0
    while not stop.is_set():
        for _ in range(100_000):
            x += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["tiny.en", "default"])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    stop = mp.Event()
    burners = [mp.Process(target=burn, args=(stop,), daemon=True)
               for _ in range(os.cpu_count() or 1)]
    for p in burners:
        p.start()
    try:
        for model in args.models:
            passed = 0
            for i in range(args.runs):
                started = time.monotonic()
                done = subprocess.run([sys.executable, "-m", "voxtrald", "selftest",
                                       "--model", model, "--json"], capture_output=True,
                                      text=True, timeout=900)
                try:
                    result = json.loads(done.stdout)
                except ValueError:
                    result = {"ok": False, "error": done.stderr.strip()[-200:]}
                passed += bool(result.get("ok"))
                print(f"{model} run {i + 1}: {'ok' if result.get('ok') else 'FAILED'} "
                      f"{time.monotonic() - started:.1f} s "
                      f"{result.get('text') or result.get('error')!r}", flush=True)
            print(f"{model}: {passed} of {args.runs} passed under full CPU load", flush=True)
    finally:
        stop.set()
        for p in burners:
            p.join()


if __name__ == "__main__":
    main()
