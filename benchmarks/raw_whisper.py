"""The baselines: plain faster-whisper, in a child process of its own.

`WhisperModel.transcribe` with faster-whisper's default options (no VAD, no
batching, no word timings), and the same call with `vad_filter=True`
(faster-whisper's own recommended path), per request; the same model folder,
compute type, threads and beam size as the daemon. The child loads the model once and then takes one
file per request, the way the daemon's warm worker does, so the two sides
are timed and measured alike: wall time inside the child around transcribe
and reading the segments; peak RSS from outside, per file.

The child reads one JSON request per line on stdin and answers one JSON
line per request on stdout. Run as
`python benchmarks/raw_whisper.py MODEL_DIR --threads 2 --beam 5`.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.peak_rss import PeakWatcher  # noqa: E402


class RawWhisper:
    """The parent's handle on the child; one instance per benchmark run."""

    def __init__(self, model_dir: str, threads: int, beam: int) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, __file__, model_dir, "--threads", str(threads), "--beam", str(beam)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, encoding="utf-8",
        )
        self.load_seconds = float(self._reply()["load_seconds"])

    def _reply(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"raw faster-whisper exited with {self.proc.wait()}")
        reply: dict[str, Any] = json.loads(line)
        return reply

    def transcribe(self, path: Path, vad_filter: bool = False) -> dict[str, Any]:
        """{text, segments, language, duration, wall, peak_rss_mb}, or {error}, for one file."""
        assert self.proc.stdin is not None
        with PeakWatcher(lambda: [self.proc.pid]) as watch:
            request = {"path": str(path), "vad_filter": vad_filter}
            self.proc.stdin.write(json.dumps(request) + "\n")
            self.proc.stdin.flush()
            reply = self._reply()
        reply["peak_rss_mb"] = round(watch.peak_mb, 1)
        return reply

    def close(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def serve(model_dir: str, threads: int, beam: int) -> int:
    from faster_whisper import WhisperModel

    # The answers go to a private copy of stdout; anything a library prints goes to stderr.
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    started = time.perf_counter()
    model = WhisperModel(model_dir, device="cpu", compute_type="int8", cpu_threads=threads)
    out.write(json.dumps({"load_seconds": round(time.perf_counter() - started, 3)}) + "\n")
    out.flush()
    for line in sys.stdin:
        request = json.loads(line)
        path = request["path"]
        try:
            started = time.perf_counter()
            segments, info = model.transcribe(path, beam_size=beam,
                                              vad_filter=bool(request.get("vad_filter")))
            segs = [{"start": round(s.start, 3), "end": round(s.end, 3), "text": s.text.strip()}
                    for s in segments]
            wall = time.perf_counter() - started
        except Exception as exc:
            out.write(json.dumps({"error": f"{path}: {type(exc).__name__}: {exc}"}) + "\n")
            out.flush()
            continue
        out.write(json.dumps({
            "wall": round(wall, 3), "segments": segs,
            "text": " ".join(s["text"] for s in segs if s["text"]),
            "language": info.language,
            "language_probability": round(info.language_probability, 3),
            "duration": round(info.duration, 3),
        }, ensure_ascii=False) + "\n")
        out.flush()
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model_dir")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--beam", type=int, default=5)
    args = ap.parse_args()
    return serve(args.model_dir, args.threads, args.beam)


if __name__ == "__main__":
    sys.exit(main())
