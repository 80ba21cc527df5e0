"""One job as the rest of the daemon sees it: a row of the store, typed."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from voxtrald.states import JobState


@dataclass(frozen=True)
class Job:
    """One row of the store, as the rest of the daemon sees it (times are epoch seconds)."""

    id: int
    source_path: str
    file: str
    rel_dir: str
    sha256: str | None
    size: int | None
    mtime: float | None
    state: JobState
    attempts: int
    max_attempts: int
    created_at: float
    started_at: float | None
    finished_at: float | None
    next_attempt_at: float
    duration: float | None
    wall_seconds: float | None
    percent: float
    eta_seconds: float | None
    error: str | None
    duplicate_of: int | None
    output_stem: str | None
    outputs: tuple[str, ...]
    language: str | None
    language_probability: float | None
    warnings: tuple[str, ...]
    # The machine that holds (running) or held the job, and the claim it holds it by.
    host: str | None = None
    claim_token: int = 0
    lease_until: float | None = None

    @classmethod
    def from_row(cls, row: sqlite3.Row | Mapping[str, Any]) -> Job:
        data = dict(row)
        data.pop("speaker_names", None)  # read on its own (store/speaker_names.py)
        data["state"] = JobState(data["state"])
        data["outputs"] = tuple(json.loads(data["outputs"] or "[]"))
        data["warnings"] = tuple(json.loads(data["warnings"] or "[]"))
        return cls(**data)
