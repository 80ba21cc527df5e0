"""The worker supervisor against a real worker process that dies at a bad moment."""

from __future__ import annotations

import os
import signal
import threading
import time

from voxtrald import config
from voxtrald.worker.process import WorkerError, WorkerProcess, worker_settings


def test_a_worker_killed_while_its_model_loads_is_reported_as_killed(tmp_path) -> None:
    (tmp_path / "none.toml").write_text("")
    cfg = config.load(tmp_path / "none.toml", {"engine.model": "tiny.en"})
    worker = WorkerProcess(worker_settings(cfg))
    outcome: dict[str, object] = {}

    def start() -> None:
        try:
            worker.start(timeout=60)
            outcome["started"] = True
        except WorkerError as exc:
            outcome["error"] = str(exc)

    thread = threading.Thread(target=start)
    thread.start()
    deadline = time.monotonic() + 30
    while worker.proc is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert worker.proc is not None
    os.kill(worker.proc.pid, signal.SIGKILL)  # the OOM killer, say, during the load
    thread.join(60)
    worker.stop()
    assert outcome.get("error") == (
        "the transcription worker was killed by SIGKILL (likely out of memory)"), outcome
