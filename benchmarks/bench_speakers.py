"""Speaker labels against a known truth, and what they cost on a long file.

Runs the real worker (`python -m voxtrald.engine`, the bundled model) on the
test conversations of benchmarks/conversations.py (2, 3 and 4 voices from
../shared/audio) with speakers "auto", labels the words as the daemon does,
and prints per conversation: speakers found, share of words given the right
speaker after the best label mapping, and DER (collar 0.25 s). Then the
long-form two-voice file twice, speakers off and on, for the added wall time
and the worker's peak memory (VmHWM).

    python benchmarks/bench_speakers.py [--long-minutes 10] [--threads 2] [--only two-a,...]
        [--hard]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import conversations as cv  # noqa: E402
from benchmarks.diarization_metrics import der, word_accuracy  # noqa: E402
from tests.support.engine_worker import WorkerClient  # noqa: E402
from voxtrald.jobs import speaker_labels  # noqa: E402
from voxtrald.models import resolve_model  # noqa: E402
from voxtrald.transcripts.speaker_turns import Timeline  # noqa: E402
from voxtrald.worker.protocol import (  # noqa: E402
    ChunkDone,
    Done,
    EngineSettings,
    JobOptions,
    Transcribe,
)


def peak_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def run(client: WorkerClient, path: Path, speakers: str) -> tuple[list, Done, float]:
    started = time.monotonic()
    replies = client.run(Transcribe(1, str(path), options=JobOptions(speakers=speakers)),
                         timeout=3600)
    wall = time.monotonic() - started
    done = replies[-1]
    assert isinstance(done, Done), done
    segments = [s for r in replies if isinstance(r, ChunkDone) for s in r.segments]
    return speaker_labels.apply(segments, done.speaker_windows), done, wall


def score(segments: list, done: Done, truth: list[cv.TruthTurn]) -> tuple[int, float, float]:
    turns = [(t.start, t.end, t.speaker) for t in truth]
    words = [(w.start, w.end, w.speaker or 0) for s in segments if not s.removed
             for w in s.words]
    hyp = [(t.start, t.end, t.speaker) for t in Timeline(done.speaker_windows).turns()]
    found = len({s for _, s in done.speaker_windows})
    return found, word_accuracy(words, turns), der(turns, hyp)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--long-minutes", type=float, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--only", default="", help="only these conversations (comma-separated)")
    parser.add_argument("--hard", action="store_true",
                        help="also laughter between turns, one person on two microphones, "
                             "seven voices")
    args = parser.parse_args()
    if not cv.AUDIO.is_dir():
        print(f"no recordings at {cv.AUDIO}: nothing to measure")
        return 2
    settings = EngineSettings(model=str(resolve_model("default")), threads=args.threads)
    client = WorkerClient(settings)
    only = set(filter(None, args.only.split(",")))
    right_count = total = 0
    by_size: dict[int, list[float]] = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for name, voices, seconds in cv.SET:
                if only and name not in only:
                    continue
                path = Path(tmp) / f"{name}.wav"
                truth = cv.write(path, voices, seconds)
                segments, done, wall = run(client, path, "auto")
                found, acc, d = score(segments, done, truth)
                right_count += found == len(voices)
                total += 1
                by_size.setdefault(len(voices), []).append(acc)
                print(f"{name:8} voices {len(voices)} found {found}  words right {acc:6.1%}"
                      f"  DER {d:6.1%}  ({seconds:.0f} s audio, {wall:.1f} s)", flush=True)
            for size, accs in sorted(by_size.items()):
                print(f"{size} voices: words right {sum(accs) / len(accs):.1%} (mean)")
            if total:
                print(f"speaker count right in {right_count}/{total}")
            for name, voices, seconds, laughs, ids in cv.HARD if args.hard else ():
                path = Path(tmp) / f"{name}.wav"
                truth = cv.write(path, voices, seconds, 1, laughs, ids)
                segments, done, wall = run(client, path, "auto")
                found, acc, d = score(segments, done, truth)
                print(f"hard {name:9} people {len(set(ids))} found {found}  words right "
                      f"{acc:6.1%}  DER {d:6.1%}", flush=True)
            if args.long_minutes > 0:
                path = Path(tmp) / "long.wav"
                truth = cv.write(path, ("smartphone", "license_en"), args.long_minutes * 60, 7)
                _s, _d, off = run(client, path, "off")
                off_peak = peak_kb(client.proc.pid)
                segments, done, on = run(client, path, "auto")
                on_peak = peak_kb(client.proc.pid)
                found, acc, d = score(segments, done, truth)
                print(f"long {args.long_minutes:g} min: off {off:.1f} s, auto {on:.1f} s, "
                      f"added {on / off - 1:+.1%}; peak RSS off {off_peak / 1024:.0f} MB, "
                      f"after auto {on_peak / 1024:.0f} MB; found {found}, words right "
                      f"{acc:.1%}, DER {d:.1%}, windows {len(done.speaker_windows)}")
    finally:
        client.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
