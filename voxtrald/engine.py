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
from pathlib import Path
from typing import IO, Any

import numpy as np

from voxtrald import memory
from voxtrald.audio import SAMPLE_RATE, DecodeStats, MediaError, decode_blocks
from voxtrald.chunking import choose_chunk_seconds, chunk_stream
from voxtrald.models import resolve_model

log = logging.getLogger("voxtrald.engine")
# Peak level under which a chunk is treated as silence (about -50 dBFS): the
# model invents words ("You") for pure silence, so it is not asked at all.
SILENCE_PEAK = 0.003


def _available_bytes() -> int | None:
    try:
        return memory.available_bytes()
    except Exception:  # noqa: BLE001 - a failed reading only means the middle chunk size
        return None


class Worker:
    def __init__(self, settings: dict[str, Any], out: IO[str]) -> None:
        self.settings = settings
        self.out = out
        self.parent = os.getppid()
        self.model: Any = None

    def send(self, **msg: Any) -> None:
        self.out.write(json.dumps(msg) + "\n")
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
        self.send(type="ready", model=name, load_seconds=round(time.monotonic() - started, 3))

    def _chunk_seconds(self) -> float:
        s = self.settings
        return choose_chunk_seconds(
            _available_bytes(),
            s["chunk_seconds_low"], s["chunk_seconds_mid"], s["chunk_seconds_high"],
            s["chunk_low_below_gb"], s["chunk_mid_below_gb"],
        )

    def transcribe(self, job_id: int, path: Path) -> None:
        stats = DecodeStats()
        language = self.settings.get("language") or None
        beam = int(self.settings.get("beam_size", 5))
        detected: str | None = None
        chunks = 0
        position = 0.0
        self.send(type="started", job_id=job_id)
        for offset, samples in chunk_stream(decode_blocks(path, stats), self._chunk_seconds):
            chunks += 1
            if chunks == 1:
                self.send(type="duration", job_id=job_id, duration=stats.duration)
            segments: Any = ()
            # Each chunk starts without the previous chunk's text as prompt: with one, the
            # model was seen to drop timestamps and skip whole sentences after a boundary.
            if samples.size and float(np.abs(samples).max()) >= SILENCE_PEAK:
                segments, info = self.model.transcribe(
                    samples, beam_size=beam, language=language or detected,
                )
                detected = detected or info.language
            for seg in segments:
                if os.getppid() != self.parent:
                    # The daemon is gone; nobody will read the result.
                    os._exit(0)
                position = offset + seg.end
                self.send(
                    type="segment", job_id=job_id, start=round(offset + seg.start, 3),
                    end=round(offset + seg.end, 3), text=seg.text, position=round(position, 3),
                )
            position = offset + samples.size / SAMPLE_RATE
            self.send(type="progress", job_id=job_id, position=round(position, 3))
            del samples, segments
            gc.collect()
        self.send(
            type="done", job_id=job_id, duration=round(stats.samples / SAMPLE_RATE, 3),
            language=detected or language, chunks=chunks, warnings=stats.warnings,
        )

    def serve(self, inp: IO[str]) -> None:
        for line in inp:
            try:
                req = json.loads(line)
            except ValueError:
                continue
            if req.get("op") == "quit":
                return
            if req.get("op") != "transcribe":
                continue
            job_id = int(req["job_id"])
            try:
                self.transcribe(job_id, Path(req["path"]))
            except MediaError as exc:
                self.send(type="failed", job_id=job_id, message=str(exc), permanent=True)
            except FileNotFoundError:
                self.send(type="failed", job_id=job_id, message="the source file disappeared",
                          permanent=True)
            except PermissionError as exc:
                self.send(type="failed", job_id=job_id, permanent=False,
                          message=f"cannot read the source file: {exc.strerror}")
            except Exception as exc:  # noqa: BLE001 - report, the daemon decides on retries
                log.exception("transcription failed")
                self.send(type="failed", job_id=job_id, permanent=False,
                          message=f"{type(exc).__name__}: {exc}")
            gc.collect()


def _set_parent_death_signal() -> None:
    """Linux: die with the daemon even if it is SIGKILLed mid-job."""
    if sys.platform != "linux":
        return
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001 - best effort; the getppid check is the fallback
        pass


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    settings = json.loads(argv[0])
    logging.basicConfig(
        level=settings.get("log_level", "INFO"), stream=sys.stderr,
        format="%(asctime)s worker %(levelname)s %(message)s",
    )
    logging.getLogger("faster_whisper").setLevel(logging.WARNING)
    _set_parent_death_signal()
    proto = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    worker = Worker(settings, proto)
    try:
        worker.load()
    except Exception as exc:  # noqa: BLE001 - any load failure is reported the same way
        worker.send(type="load_failed", message=f"cannot load model '{settings['model']}': {exc}")
        return 1
    worker.serve(sys.stdin)
    return 0


if __name__ == "__main__":
    sys.exit(main())
