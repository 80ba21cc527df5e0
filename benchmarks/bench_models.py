"""What the model checks cost at start-up: assembling base, a verified start, a full re-hash.

Assembles Whisper base from its installed packages into a temp folder, then
times the check every start makes (stamp still valid: stat only) against a
full re-hash of every file, for base and for tiny.en. The page cache is not
dropped, so the first figures are those of a machine that just installed.

    python benchmarks/bench_models.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from voxtrald.models.assembly import assemble  # noqa: E402
from voxtrald.models.integrity import verify_files  # noqa: E402
from voxtrald.models.local import pinned_folder, stamp_path  # noqa: E402
from voxtrald.models.pins import BASE, PINNED  # noqa: E402


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="voxtral-bench-models-") as tmp:
        root = Path(tmp)
        first = timed(lambda: assemble(BASE, root))
        print(f"assemble base ({BASE.size / 1e6:.0f} MB, write + sync + verify): {first:.2f} s")
        for model in PINNED.values():
            full = min(timed(partial(verify_files, pinned_folder(model, root), model.files,
                                     stamp_path(root, model), "", rehash=True))
                       for _ in range(args.rounds))
            cached = min(timed(partial(verify_files, pinned_folder(model, root), model.files,
                                       stamp_path(root, model), ""))
                         for _ in range(args.rounds))
            print(f"{model.name:8} {model.size / 1e6:4.0f} MB  full re-hash {full:.3f} s  "
                  f"verified start (stamp) {cached * 1000:.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
