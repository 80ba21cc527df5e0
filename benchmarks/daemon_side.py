"""Our side: the real daemon, as a user runs it, fed through its inbox.

`voxtrald run` starts as a subprocess on temp folders, a temp socket and a
temp state folder (the same way the end-to-end tests start it); each file is
dropped into the inbox and the JSON transcript the daemon writes is read
back. A warm-up file loads the model first, so every measured file meets a
warm worker, as raw faster-whisper's child does. Peak RSS is the worker's
(the daemon's child processes), sampled from outside while the file runs.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from benchmarks.peak_rss import PeakWatcher, descendants
from tests.conftest import DATA, DaemonProc
from voxtrald.client.connection import DaemonUnreachable

# Loads the model without costing a transcription: the engine skips silence.
WARM_UP = DATA / "silence.flac"


class OurDaemon:
    def __init__(self, root: Path, model: str, threads: int, beam: int,
                 extra: dict[str, dict[str, Any]] | None = None,
                 timeout: float = 3 * 3600) -> None:
        config: dict[str, dict[str, Any]] = {
            "engine": {"model": model, "threads": threads, "beam_size": beam,
                       "compute_type": "int8", "idle_unload_seconds": 24 * 3600.0},
            "outputs": {"formats": ["json"]},
            "jobs": {"max_attempts": 1, "after": "delete"},
        }
        for section, body in (extra or {}).items():
            config.setdefault(section, {}).update(body)
        root.mkdir(parents=True, exist_ok=True)
        self.daemon = DaemonProc(root, config, None)
        self.timeout = timeout
        self.count = 0
        self.daemon.start(wait_ready=True)
        warm = self.transcribe(WARM_UP)
        if "error" in warm:
            self.close()
            raise RuntimeError(f"the daemon could not transcribe {WARM_UP}: {warm['error']}")
        self.load_drop_to_transcript = warm["drop_to_transcript"]

    def _worker_pids(self) -> list[int]:
        proc = self.daemon.proc
        return descendants(proc.pid) if proc is not None and proc.poll() is None else []

    def _failure(self, name: str) -> str | None:
        try:
            jobs = self.daemon.jobs()
        except DaemonUnreachable:
            return None
        for job in jobs:
            if Path(str(job.get("file", ""))).name != name:
                continue
            if job["state"] == "failed":
                return str(job.get("error") or "the job failed")
            if job["state"] == "duplicate":
                return "the same audio as a file already transcribed in this run"
        return None

    def transcribe(self, source: Path) -> dict[str, Any]:
        """The transcript JSON plus drop_to_transcript, wall and peak_rss_mb, or {error}."""
        self.count += 1
        name = f"{self.count:03d}-{source.name}"
        target = self.daemon.transcripts / (Path(name).stem + ".json")
        with PeakWatcher(self._worker_pids) as watch:
            self.daemon.drop(source, name)
            dropped = time.monotonic()
            deadline = dropped + self.timeout
            checked = dropped
            error = None
            while not target.exists():
                time.sleep(0.05)
                now = time.monotonic()
                if now - checked > 1.0:
                    checked = now
                    error = self._failure(name)
                if error or now > deadline or self.daemon.proc is None \
                        or self.daemon.proc.poll() is not None:
                    break
            elapsed = time.monotonic() - dropped
        if not target.exists():
            reason = error or ("the daemon exited" if self.daemon.proc is None
                               or self.daemon.proc.poll() is not None else "timed out")
            return {"error": f"{source.name}: {reason}\n{self.daemon.log()[-2000:]}"}
        doc: dict[str, Any] = json.loads(target.read_text(encoding="utf-8"))
        doc["drop_to_transcript"] = round(elapsed, 3)
        doc["wall"] = (doc.get("timing") or {}).get("wall_seconds")
        doc["peak_rss_mb"] = round(watch.peak_mb, 1)
        return doc

    def close(self) -> None:
        self.daemon.stop()
