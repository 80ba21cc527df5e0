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
    from voxtrald.engine import Worker
    from voxtrald.quality import kept
    from voxtrald.worker_protocol import ChunkDone, EngineSettings, Transcribe, decode

    settings = EngineSettings(model="default", threads=threads, beam_size=beam)
    out = io.StringIO()
    worker = Worker(settings, out)
    worker.load()
    started = time.perf_counter()
    worker.transcribe(Transcribe(1, str(path)))
    wall = time.perf_counter() - started
    segments = []
    for line in out.getvalue().splitlines():
        msg = decode(line)
        if isinstance(msg, ChunkDone):
            segments.extend(msg.segments)
    text = " ".join(s.text.strip() for s in kept(segments))
    return {"wall": wall, "rss_mb": _peak_rss_mb(), "text": text}


def word_difference(ours: str, raw: str) -> float:
    """Word-level edit distance of ours against raw, over raw's length (a WER).

    A true edit distance, not difflib's matching blocks: on long, repetitive
    speech those misalign and report differences that are not there.
    """
    import numpy as np

    def norm(text: str) -> list[str]:
        return [w.strip(".,!?;:\"'").lower() for w in text.split()]

    a, b = norm(raw), norm(ours)
    if not a:
        return 0.0 if not b else 1.0
    vocab: dict[str, int] = {}
    bv = np.array([vocab.setdefault(w, len(vocab)) for w in b], dtype=np.int64)
    steps = np.arange(len(b) + 1)
    prev = steps.copy()
    for word in a:
        cost = (bv != vocab.get(word, -1)).astype(np.int64)
        base = np.empty_like(prev)
        base[0] = prev[0] + 1
        base[1:] = np.minimum(prev[1:] + 1, prev[:-1] + cost)
        # Insertions run along the row: row[j] = min over k <= j of base[k] + (j - k).
        prev = np.minimum.accumulate(base - steps) + steps
    return float(prev[-1]) / len(a)


def make_long(minutes: float, out: Path) -> None:
    """Repeat the story fixture with short pauses until `minutes` of audio.

    Also writes OUT.txt, the words spoken, for --reference.
    """
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
    sys.path.insert(0, str(ROOT / "tests" / "data"))
    from make_fixtures import SPEECH

    repeats = -(-total // (story.size + pause.size))
    out.with_suffix(".txt").write_text(" ".join([SPEECH["story.flac"]] * repeats) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", nargs="?", type=Path)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--beam", type=int, default=5)
    parser.add_argument("--child", choices=["raw", "ours"], help=argparse.SUPPRESS)
    parser.add_argument("--make-long", nargs=2, metavar=("MINUTES", "OUT"))
    parser.add_argument("--reference", type=Path, metavar="TXT",
                        help="the words actually spoken: also print each side's error rate")
    parser.add_argument("--save-texts", type=Path, metavar="DIR",
                        help="write raw.txt and ours.txt there, to see where they differ")
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
    if args.save_texts:
        args.save_texts.mkdir(parents=True, exist_ok=True)
        for side in ("raw", "ours"):
            (args.save_texts / f"{side}.txt").write_text(results[side]["text"] + "\n")
    print(f"file: {args.file}")
    print(f"wall: raw {raw['wall']:.2f} s, ours {ours['wall']:.2f} s, "
          f"ratio ours/raw {ours['wall'] / raw['wall']:.3f} (target <= 1.05)")
    print(f"peak RSS: raw {raw['rss_mb']:.0f} MB, ours {ours['rss_mb']:.0f} MB, "
          f"ratio ours/raw {ours['rss_mb'] / raw['rss_mb']:.3f}")
    print(f"words: raw {len(raw['text'].split())}, ours {len(ours['text'].split())}")
    print(f"word difference vs raw: {100 * word_difference(ours['text'], raw['text']):.2f} % "
          "(target <= 2 %)")
    if args.reference:
        ref = args.reference.read_text(encoding="utf-8")
        raw_err, our_err = word_difference(raw["text"], ref), word_difference(ours["text"], ref)
        print(f"error rate vs the spoken words: raw {100 * raw_err:.2f} %, "
              f"ours {100 * our_err:.2f} %")
    return 0


if __name__ == "__main__":
    sys.exit(main())
