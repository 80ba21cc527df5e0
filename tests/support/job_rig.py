"""The daemon's parts around the scheduler, real except for the worker, for unit tests."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from tests.support.fake_worker import FakeWorker, Script
from voxtrald import config
from voxtrald.events import EventLog
from voxtrald.jobs.activity import CurrentJob, Heartbeat
from voxtrald.jobs.disposal import Disposal
from voxtrald.jobs.intake import Intake
from voxtrald.jobs.outcomes import Outcomes
from voxtrald.jobs.runner import JobRunner
from voxtrald.jobs.scheduler import Scheduler
from voxtrald.states import MemoryLevel
from voxtrald.store.jobs import Job, JobStore


class Rig:
    def __init__(self, tmp_path: Path, script: Script, **settings: Any) -> None:
        (tmp_path / "none.toml").write_text("")
        overrides = {"paths.inbox": tmp_path / "Inbox", "paths.state_dir": tmp_path / "state",
                     "paths.transcripts": tmp_path / "Transcripts", **settings}
        self.cfg = config.load(tmp_path / "none.toml", overrides)
        for folder in (self.cfg.paths.inbox, self.cfg.paths.transcripts):
            folder.mkdir(parents=True)
        self.store = JobStore(tmp_path / "state" / "jobs.sqlite3")
        self.events = EventLog()
        self.worker = FakeWorker(script)
        self.current = CurrentJob()
        self.heartbeat = Heartbeat()
        self.stopping = threading.Event()
        disposal = Disposal(self.store, self.cfg)
        self.outcomes = Outcomes(self.store, self.cfg, self.events, disposal)
        self.runner = JobRunner(self.store, self.worker, self.outcomes, self.cfg, self.events,
                                self.current, self.heartbeat, self.stopping)
        self.intake = Intake(self.store, self.cfg, self.events, disposal, lambda: None)
        self.hold: str | None = None
        self.level = MemoryLevel.NORMAL
        self.scheduler = Scheduler(
            self.store, self.runner, self.outcomes, self.worker, self.events, self.current,
            self.heartbeat, self.stopping, self.cfg.engine.idle_unload_seconds,
            hold_reason=lambda: self.hold, memory_level=lambda: self.level)
        self.scheduler.fault_pause = 0.1

    def drop(self, name: str, content: bytes = b"audio bytes") -> Job:
        path = self.cfg.paths.inbox / name
        path.write_bytes(content)
        self.intake.take(path)
        job = self.store.list()[0]
        assert job.file == Path(name).name
        return job

    def job(self, job_id: int) -> Job:
        job = self.store.get(job_id)
        assert job is not None
        return job

    def run_next(self) -> Job:
        """Run the next runnable job as the scheduler would, backoff waits skipped."""
        job = self.store.next_runnable(now=time.time() + 10**6)
        assert job is not None, "nothing to run"
        self.runner.run(job)
        return self.job(job.id)

    def event_types(self) -> list[str]:
        return [e["type"] for e in self.events.since(0)["events"]]

    def close(self) -> None:
        self.stopping.set()
        self.scheduler.join(5)
        self.store.close()
