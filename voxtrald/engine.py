"""The transcription worker: a child process that holds the model.

Running faster-whisper in its own process means a segfault or an OOM kill
costs one attempt of one job, never the daemon, and ending the process is
the only reliable way to hand the model's memory back to the OS. The daemon
talks to it with one JSON object per line: requests on stdin, progress and
results on a private copy of stdout (fd 1 itself is pointed at stderr, so a
stray print from a native library cannot corrupt the protocol).

Run as `python -m voxtrald.engine '<json settings>'`.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np

from voxtrald import _platform, memory, textsafe
from voxtrald import worker_protocol as wp
from voxtrald.audio import SAMPLE_RATE, DecodeStats, MediaError, decode_blocks
from voxtrald.chunking import choose_chunk_seconds, chunk_stream
from voxtrald.models import resolve_model
from voxtrald.transcript import Segment

log = logging.getLogger("voxtrald.engine")
# Peak level under which a chunk is treated as silence (about -50 dBFS): the
# model invents words ("You") for pure silence, so it is not asked at all.
SILENCE_PEAK = 0.003


def _available_bytes() -> int | None:
    try:
        return memory.available_bytes()
    except Exception:  # a failed reading only means the middle chunk size
        return None


def _skip(blocks: Iterator[np.ndarray], samples: int) -> Iterator[np.ndarray]:
    """The block stream without its first `samples` samples (resuming mid-file)."""
    for block in blocks:
        if samples >= block.size:
            samples -= block.size
            continue
        yield block[samples:] if samples else block
        samples = 0


class Worker:
    def __init__(self, settings: dict[str, Any], out: IO[str]) -> None:
        self.settings = settings
        self.out = out
        self.parent = os.getppid()
        self.model: Any = None

    def send(self, msg: wp.Reply) -> None:
        self.out.write(wp.encode(msg))
        self.out.flush()

    def load(self) -> None:
        from faster_whisper import WhisperModel

        name = self.settings["model"]
        started = time.monotonic()
        self.model = WhisperModel(
            resolve_model(name),
            device=self.settings.get("device", "cpu"),
            compute_type=self.settings.get("compute_type", "int8"),
            cpu_threads=int(self.settings.get("threads", 0)),
        )
        self.send(wp.Ready(name, round(time.monotonic() - started, 3),
                           bool(self.model.model.is_multilingual)))

    def _chunk_seconds(self) -> float:
        s = self.settings
        return choose_chunk_seconds(
            _available_bytes(),
            s["chunk_seconds_low"], s["chunk_seconds_mid"], s["chunk_seconds_high"],
            s["chunk_low_below_gb"], s["chunk_mid_below_gb"],
        )

    def transcribe(self, req: wp.Transcribe) -> None:
        job_id = req.job_id
        stats = DecodeStats()
        language = req.options.language or self.settings.get("language") or None
        beam = int(self.settings.get("beam_size", 5))
        detected: str | None = None
        probability: float | None = None
        index = req.first_chunk
        start = int(round(req.start_at * SAMPLE_RATE))
        blocks = _skip(decode_blocks(Path(req.path), stats), start)
        first = True
        for offset, samples in chunk_stream(blocks, self._chunk_seconds):
            offset += start / SAMPLE_RATE
            if first:
                self.send(wp.Started(job_id, stats.duration))
                first = False
            found: list[Segment] = []
            # Each chunk starts without the previous chunk's text as prompt: with one, the
            # model was seen to drop timestamps and skip whole sentences after a boundary.
            if samples.size and float(np.abs(samples).max()) >= SILENCE_PEAK:
                segments, info = self.model.transcribe(
                    samples, beam_size=beam, language=language or detected,
                    hotwords=req.options.hotwords, initial_prompt=req.options.initial_prompt,
                )
                if detected is None and not language:
                    detected, probability = info.language, info.language_probability
                for seg in segments:
                    if os.getppid() != self.parent:
                        os._exit(0)  # the daemon is gone; nobody will read the result
                    found.append(Segment(round(offset + seg.start, 3),
                                         round(offset + seg.end, 3), seg.text))
                    self.send(wp.Progress(job_id, round(offset + seg.end, 3)))
            end = offset + samples.size / SAMPLE_RATE
            self.send(wp.ChunkDone(job_id, index, round(end, 3), tuple(found),
                                   detected or language, probability))
            index += 1
            del samples
            gc.collect()
        self.send(wp.Done(job_id, round(stats.samples / SAMPLE_RATE, 3),
                          index - req.first_chunk, detected or language, probability,
                          tuple(stats.warnings)))

    def serve(self, inp: IO[str]) -> None:
        for line in inp:
            req = wp.decode(line)
            if isinstance(req, wp.Quit):
                return
            if not isinstance(req, wp.Transcribe):
                continue
            job_id = req.job_id
            try:
                self.transcribe(req)
            except MediaError as exc:
                self.send(wp.Failed(job_id, str(exc), permanent=True))
            except FileNotFoundError:
                self.send(wp.Failed(job_id, "the source file disappeared", permanent=True))
            except PermissionError as exc:
                self.send(wp.Failed(job_id, f"cannot read the source file: {exc.strerror}"))
            except Exception as exc:  # report; the daemon decides on retries
                log.exception("transcription failed")
                self.send(wp.Failed(job_id, f"{type(exc).__name__}: {exc}"))
            gc.collect()


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    settings = json.loads(argv[0])
    logging.basicConfig(
        level=settings.get("log_level", "INFO"), stream=sys.stderr,
        format="%(asctime)s worker %(levelname)s %(message)s",
    )
    logging.getLogger("faster_whisper").setLevel(logging.WARNING)
    textsafe.install()
    _platform.die_with_parent()
    proto = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    worker = Worker(settings, proto)
    try:
        worker.load()
    except Exception as exc:  # any load failure is reported the same way
        worker.send(wp.LoadFailed(f"cannot load model '{settings['model']}': {exc}"))
        return 1
    worker.serve(sys.stdin)
    return 0


if __name__ == "__main__":
    sys.exit(main())
