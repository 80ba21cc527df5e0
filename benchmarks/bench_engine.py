"""Our engine against raw faster-whisper on one file of your choice, in one run.

The single-file form of bench_real.py (same two sides: raw faster-whisper
sequential in its own child, and the real daemon fed through its inbox; same
model, int8, threads and beam size). Prints the wall time ratio ours/raw,
both peak RSS figures and the word difference of our text against raw's;
with --reference, each side's error rate against the words spoken.

    python benchmarks/bench_engine.py FILE [--model default] [--threads 2] [--beam 5]
        [--reference TXT] [--save-texts DIR]

For a long test file, see benchmarks/make_longform.py.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.daemon_side import OurDaemon  # noqa: E402
from benchmarks.metrics import wer  # noqa: E402
from benchmarks.raw_whisper import RawWhisper  # noqa: E402
from voxtrald.models import resolve_model  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", type=Path)
    parser.add_argument("--model", default="default")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--beam", type=int, default=5)
    parser.add_argument("--reference", type=Path, metavar="TXT",
                        help="the words actually spoken: also print each side's error rate")
    parser.add_argument("--save-texts", type=Path, metavar="DIR",
                        help="write raw.txt and ours.txt there, to see where they differ")
    args = parser.parse_args()
    if not args.file.is_file():
        parser.error(f"{args.file}: no such file")
    raw_side = RawWhisper(resolve_model(args.model), args.threads, args.beam)
    try:
        raw = raw_side.transcribe(args.file.resolve())
    finally:
        raw_side.close()
    with tempfile.TemporaryDirectory(prefix="bench-engine-") as tmp:
        ours_side = OurDaemon(Path(tmp), args.model, args.threads, args.beam)
        try:
            ours = ours_side.transcribe(args.file.resolve())
        finally:
            ours_side.close()
    for side, result in (("raw", raw), ("ours", ours)):
        if "error" in result:
            print(f"{side}: {result['error']}", file=sys.stderr)
            return 1
    if args.save_texts:
        args.save_texts.mkdir(parents=True, exist_ok=True)
        for side, result in (("raw", raw), ("ours", ours)):
            (args.save_texts / f"{side}.txt").write_text(result["text"] + "\n", encoding="utf-8")
    print(f"file: {args.file}")
    print(f"wall: raw {raw['wall']:.2f} s, ours {ours['wall']:.2f} s (job), "
          f"{ours['drop_to_transcript']:.2f} s (drop to transcript); "
          f"ratio ours/raw {ours['wall'] / raw['wall']:.3f}")
    print(f"peak RSS: raw {raw['peak_rss_mb']:.0f} MB, ours (worker) {ours['peak_rss_mb']:.0f} MB, "
          f"ratio ours/raw {ours['peak_rss_mb'] / raw['peak_rss_mb']:.3f}")
    print(f"words: raw {len(raw['text'].split())}, ours {len(ours['text'].split())}")
    diff = wer(raw["text"], ours["text"])
    print(f"word difference vs raw: {'-' if diff is None else f'{100 * diff:.2f} %'}")
    if args.reference:
        ref = args.reference.read_text(encoding="utf-8")
        raw_err, our_err = wer(ref, raw["text"]), wer(ref, ours["text"])
        if raw_err is not None and our_err is not None:
            print(f"error rate vs the spoken words: raw {100 * raw_err:.2f} %, "
                  f"ours {100 * our_err:.2f} %")
    return 0


if __name__ == "__main__":
    sys.exit(main())
