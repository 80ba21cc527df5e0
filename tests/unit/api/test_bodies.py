"""The API's bodies are declared once (voxtrald/bodies.py) and built to that declaration."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

from voxtrald import bodies
from voxtrald.api.control import public_job
from voxtrald.states import JobState
from voxtrald.store.jobs import Job

# Store columns that are the daemon's bookkeeping, never shown to clients.
# The claim's token and lease are the store's business; `host` is shown on a team only.
PRIVATE_COLUMNS = {"rel_dir", "mtime", "output_stem", "claim_token", "lease_until"}


def a_job(**changes: object) -> Job:
    values: dict[str, object] = {
        "id": 7, "source_path": "/in/a.wav", "file": "a.wav", "rel_dir": "", "sha256": "ab" * 32,
        "size": 10, "mtime": 1.0, "state": JobState.DONE, "attempts": 1, "max_attempts": 3,
        "created_at": 1_700_000_000.0, "started_at": 1_700_000_001.0,
        "finished_at": 1_700_000_002.0, "next_attempt_at": 0.0, "duration": 2.5,
        "wall_seconds": 1.0, "percent": 100.0, "eta_seconds": 0.0, "error": None,
        "duplicate_of": None, "output_stem": "a", "outputs": ("a.txt",), "language": "en",
        "language_probability": 0.99, "warnings": (),
    }
    values.update(changes)
    return Job(**values)  # type: ignore[arg-type]


def test_a_public_job_has_exactly_the_declared_keys() -> None:
    # `host` is added by the team queue only (control.py).
    assert set(public_job(a_job())) == set(bodies.Job.__annotations__) - {"host"}


def test_every_store_column_is_either_shown_or_declared_private() -> None:
    """A new column must be a decision: add it to bodies.Job, or to the private list."""
    columns = {f.name for f in dataclasses.fields(Job)}
    assert columns - set(bodies.Job.__annotations__) == PRIVATE_COLUMNS


def test_a_public_job_is_json_shaped() -> None:
    body = public_job(a_job(), live=(42.0, 3.5))
    assert body["state"] == "done" and type(body["state"]) is str
    assert body["created_at"] == "2023-11-14T22:13:20Z" and body["next_attempt_at"] is None
    assert (body["percent"], body["eta_seconds"]) == (42.0, 3.5)
    assert body["outputs"] == ["a.txt"] and body["warnings"] == []


def test_the_bodies_import_nothing_of_the_daemon() -> None:
    """So a client (the CLI, the tray) can use the same declarations."""
    tree = ast.parse(Path(bodies.__file__).read_text(encoding="utf-8"))
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert imported <= {"__future__", "typing"}


def test_a_download_carries_the_staged_update_keys_as_declared() -> None:
    """A TypedDict cannot take another's keys as optional, so Download repeats
    StagedUpdate's: they must stay the same keys, of the same types."""
    staged = bodies.StagedUpdate.__annotations__
    assert bodies.Download.__optional_keys__ == frozenset(staged)
    assert {k: bodies.Download.__annotations__[k] for k in staged} == staged
