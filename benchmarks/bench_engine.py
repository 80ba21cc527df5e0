"""Our engine against raw faster-whisper on the same file, in one run.

Each side runs in its own child process (so peak RSS is that side's alone),
with the same model, compute type, threads and beam size. Prints the wall
time ratio ours/raw, both peak RSS figures and the word difference of our
text against raw's.

    python benchmarks/bench_engine.py FILE [--threads N] [--beam 5]
    python benchmarks/bench_engine.py --make-long MINUTES OUT.flac   # test audio
"""

from __future__ import annotations

import argparse
import difflib
import io
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_raw(path: Path, threads: int, beam: int) -> dict:
    from faster_whisper import WhisperModel

    from voxtrald.models import resolve_model

    model = WhisperModel(resolve_model("default"), device="cpu", compute_type="int8",
                         cpu_threads=threads)
    started = time.perf_counter()
    segments, _info = model.transcribe(str(path), beam_size=beam)
    text = " ".join(s.text.strip() for s in segments)
    return {"wall": time.perf_counter() - started, "rss_mb": _peak_rss_mb(), "text": text}


def run_ours(path: Path, threads: int, beam: int) -> dict:
    from voxtrald.config import EngineConfig
    from voxtrald.engine import Worker

    e = EngineConfig()
    settings = {
        "model": "default", "device": "cpu", "compute_type": "int8", "threads": threads,
        "beam_size": beam, "language": "", "chunk_seconds_low": e.chunk_seconds_low,
        "chunk_seconds_mid": e.chunk_seconds_mid, "chunk_seconds_high": e.chunk_seconds_high,
        "chunk_low_below_gb": e.chunk_low_below_gb, "chunk_mid_below_gb": e.chunk_mid_below_gb,
    }
    out = io.StringIO()
    worker = Worker(settings, out)
    worker.load()
    started = time.perf_counter()
    worker.transcribe(1, path)
    wall = time.perf_counter() - started
    texts = []
    for line in out.getvalue().splitlines():
        msg = json.loads(line)
        if msg["type"] == "segment":
            texts.append(msg["text"].strip())
    return {"wall": wall, "rss_mb": _peak_rss_mb(), "text": " ".join(texts)}


def word_difference(ours: str, raw: str) -> float:
    a, b = raw.lower().split(), ours.lower().split()
    if not a:
        return 0.0 if not b else 1.0
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    same = sum(block.size for block in matcher.get_matching_blocks())
    return 1.0 - same / max(len(a), len(b))


def make_long(minutes: float, out: Path) -> None:
    """Repeat the story fixture with short pauses until `minutes` of audio."""
    import av
    import numpy as np

    from voxtrald.audio import SAMPLE_RATE, DecodeStats, decode_blocks

    story = np.concatenate(list(decode_blocks(ROOT / "tests/data/story.flac", DecodeStats())))
    pause = np.zeros(SAMPLE_RATE, dtype=np.float32)
    total = int(minutes * 60 * SAMPLE_RATE)
    with av.open(str(out), "w") as container:
        stream = container.add_stream("flac", rate=SAMPLE_RATE, layout="mono")
        written = 0
        while written < total:
            for block in (story, pause):
                pcm = (block * 32767).astype(np.int16).reshape(1, -1)
                frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
                frame.sample_rate = SAMPLE_RATE
                for packet in stream.encode(frame):
                    container.mux(packet)
                written += block.size
        for packet in stream.encode(None):
            container.mux(packet)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", nargs="?", type=Path)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--beam", type=int, default=5)
    parser.add_argument("--child", choices=["raw", "ours"], help=argparse.SUPPRESS)
    parser.add_argument("--make-long", nargs=2, metavar=("MINUTES", "OUT"))
    args = parser.parse_args()
    if args.make_long:
        make_long(float(args.make_long[0]), Path(args.make_long[1]))
        return 0
    if args.file is None:
        parser.error("FILE is required")
    if args.child:
        runner = run_raw if args.child == "raw" else run_ours
        print(json.dumps(runner(args.file, args.threads, args.beam)))
        return 0
    results = {}
    for side in ("raw", "ours"):
        proc = subprocess.run(
            [sys.executable, __file__, str(args.file), "--child", side,
             "--threads", str(args.threads), "--beam", str(args.beam)],
            capture_output=True, text=True, check=True,
        )
        results[side] = json.loads(proc.stdout.strip().splitlines()[-1])
    raw, ours = results["raw"], results["ours"]
    print(f"file: {args.file}")
    print(f"wall: raw {raw['wall']:.2f} s, ours {ours['wall']:.2f} s, "
          f"ratio ours/raw {ours['wall'] / raw['wall']:.3f} (target <= 1.05)")
    print(f"peak RSS: raw {raw['rss_mb']:.0f} MB, ours {ours['rss_mb']:.0f} MB, "
          f"ratio ours/raw {ours['rss_mb'] / raw['rss_mb']:.3f}")
    print(f"word difference vs raw: {100 * word_difference(ours['text'], raw['text']):.2f} % "
          "(target <= 2 %)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
