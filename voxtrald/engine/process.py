"""The transcription worker: a child process that holds the model.

Running faster-whisper in its own process means a segfault or an OOM kill
costs one attempt of one job, never the daemon, and ending the process is
the only reliable way to hand the model's memory back to the OS. The daemon
talks to it in `worker_protocol` messages, one JSON line each: requests on
stdin, replies on a private copy of stdout (fd 1 itself is pointed at
stderr, so a stray print from a native library cannot corrupt the protocol).

Started as `python -m voxtrald.engine '<EngineSettings as JSON>'`.
"""

from __future__ import annotations

import gc
import logging
import os
import sys
import time
from pathlib import Path
from typing import IO

from voxtrald import _platform
from voxtrald.engine.audio import MediaError
from voxtrald.engine.transcriber import Transcriber
from voxtrald.files import textsafe
from voxtrald.models import model_files_bytes, resolve_model
from voxtrald.worker.protocol import (
    EngineSettings,
    Failed,
    LoadFailed,
    Quit,
    Ready,
    Reply,
    Transcribe,
    decode,
    encode,
)

log = logging.getLogger("voxtrald.engine")


class Worker:
    def __init__(self, settings: EngineSettings, out: IO[str]) -> None:
        self.settings = settings
        self.out = out
        self.parent = os.getppid()
        self.transcriber: Transcriber | None = None

    def send(self, msg: Reply) -> None:
        self.out.write(encode(msg))
        self.out.flush()

    def check_parent(self) -> None:
        """End at once when the daemon is gone: nobody will read the result."""
        if os.getppid() != self.parent:
            os._exit(0)

    def load(self) -> None:
        from faster_whisper import WhisperModel

        s = self.settings
        started = time.monotonic()
        model = WhisperModel(resolve_model(s.model), device=s.device,
                             compute_type=s.compute_type, cpu_threads=s.threads)
        self.transcriber = Transcriber(model, s, model_files_bytes(s.model), s.model)
        self.send(Ready(s.model, round(time.monotonic() - started, 3),
                        multilingual=bool(model.model.is_multilingual)))

    def transcribe(self, req: Transcribe) -> None:
        if self.transcriber is None:
            self.send(Failed(req.job_id, "the model is not loaded"))
            return
        try:
            if not Path(req.path).is_file():
                raise FileNotFoundError(req.path)
            self.transcriber.run(req, self.send, self.check_parent)
        except MediaError as exc:
            self.send(Failed(req.job_id, str(exc), permanent=True))
        except FileNotFoundError:
            self.send(Failed(req.job_id, "the source file disappeared", permanent=True))
        except PermissionError as exc:
            self.send(Failed(req.job_id, f"cannot read the source file: {exc.strerror}"))
        except MemoryError:
            self.send(Failed(req.job_id, "out of memory while transcribing"))
        except Exception as exc:  # report; the daemon decides on retries
            log.exception("transcription failed")
            self.send(Failed(req.job_id, f"{type(exc).__name__}: {exc}"))
        gc.collect()

    def serve(self, inp: IO[str]) -> None:
        for line in inp:
            msg = decode(line)
            if isinstance(msg, Quit):
                return
            if isinstance(msg, Transcribe):
                self.transcribe(msg)
            elif line.strip():
                log.warning("ignored a request that is not one: %.200s", line.strip())


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    _platform.die_with_parent()
    proto = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    ignored: list[str] = []
    try:
        settings = EngineSettings.from_json(argv[0] if argv else "{}", ignored)
    except ValueError as exc:
        proto.write(encode(LoadFailed(f"bad worker settings: {exc}")))
        proto.flush()
        return 2
    logging.basicConfig(
        level=settings.log_level, stream=sys.stderr,
        format="%(asctime)s worker %(levelname)s %(message)s",
    )
    logging.getLogger("faster_whisper").setLevel(logging.WARNING)
    textsafe.install()
    if ignored:
        log.info("settings the worker does not use: %s", ", ".join(ignored))
    worker = Worker(settings, proto)
    try:
        worker.load()
    except Exception as exc:  # any load failure is reported the same way
        worker.send(LoadFailed(f"cannot load model '{settings.model}': {exc}"))
        return 1
    worker.serve(sys.stdin)
    return 0


if __name__ == "__main__":
    sys.exit(main())
