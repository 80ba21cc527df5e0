"""What the inbox watcher says in the log, through the real daemon."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest


def test_no_vanished_line_for_files_the_daemon_moved_but_one_for_a_real_vanishing(
    daemon_factory, data_dir: Path
) -> None:
    # A settle time longer than a short job: reading the file (hashing, decoding) must not
    # make it a candidate again that then "vanishes" when the daemon moves it on.
    daemon = daemon_factory({"inbox": {"settle_seconds": 3}})
    daemon.drop(data_dir / "fox.wav", "first.wav")
    daemon.drop(data_dir / "stella.mp3", "second.mp3")
    daemon.wait_jobs(2)
    time.sleep(4)  # a settle period and inbox ticks after the moves
    assert "vanished before it settled" not in daemon.log()
    gone = daemon.inbox / "gone.wav"

    def vanishing_logged() -> bool:
        # A file that comes and goes until the watcher has caught one going: once seen
        # and gone, it is logged. (Under load one short life may pass unseen.)
        if "gone.wav vanished before it settled" in daemon.log():
            return True
        if gone.exists():
            gone.unlink()
        else:
            gone.write_bytes(b"RIFF")
        return False

    daemon.wait_for(vanishing_logged, 30, "the vanishing to be logged")


def nest(root: Path, depth: int) -> Path:
    """`depth` folders inside each other (os.makedirs itself recurses too deep for this)."""
    fd = os.open(root, os.O_RDONLY)
    for _ in range(depth):
        os.mkdir("d", dir_fd=fd)
        inner = os.open("d", os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd = inner
    os.close(fd)
    return root / "d"


def unnest(root: Path) -> None:
    """Remove what `nest` made, one level at a time (rmtree recurses too deep for it)."""
    inner, spare = root / "d", root / "d-spare"
    while inner.is_dir():
        if (inner / "d").is_dir():
            os.rename(inner / "d", spare)
            os.rmdir(inner)
            os.rename(spare, inner)
        else:
            shutil.rmtree(inner)


@pytest.fixture
def nested() -> Iterator[list[Path]]:
    """Folders to nest in; emptied afterwards so no deep tree outlives the test."""
    roots: list[Path] = []
    yield roots
    for root in roots:
        unnest(root)


def test_a_thousand_nested_folders_degrade_the_inbox_but_files_elsewhere_are_taken(
    daemon_factory, data_dir: Path, nested: list[Path]
) -> None:
    d = daemon_factory(wait_ready=False)
    d.stop()
    d.inbox.mkdir(exist_ok=True)
    nested.extend([d.inbox, d.inbox / "later"])
    nest(d.inbox, 1000)  # present at start-up
    (d.inbox / "talks").mkdir()
    d.start()
    d.drop(data_dir / "fox.wav", "talks/fox.wav")
    (job,) = d.wait_jobs(1)
    assert job["file"] == "fox.wav"
    health = d.api("GET", "/api/health")[1]
    assert health["ok"] is False
    assert any("nested deeper than" in p for p in health["problems"]), health
    # Made while running: the periodic scan keeps working for everything else.
    (d.inbox / "later").mkdir()
    nest(d.inbox / "later", 1000)
    d.drop(data_dir / "stella.mp3")
    d.wait_jobs(2)
    log = d.log()
    assert "RecursionError" not in log and "Traceback" not in log
    assert log.count("nested deeper than") == 1  # said once, not at every scan


def drop_as(daemon, source: Path, name: str) -> None:
    """Copy under a short name, then rename to `name` in the inbox (names at the limit)."""
    tmp = daemon.root / "incoming.tmp"
    shutil.copyfile(source, tmp)
    os.replace(tmp, daemon.inbox / name)


def test_a_name_at_the_filesystem_limit_gets_shortened_transcripts(
    daemon, data_dir: Path
) -> None:
    name = "interview " + "x" * (255 - len("interview .wav")) + ".wav"
    assert len(name.encode()) == 255
    drop_as(daemon, data_dir / "fox.wav", name)
    (job,) = daemon.wait_jobs(1)
    assert job["state"] == "done" and job["attempts"] == 1
    outputs = sorted(p.name for p in daemon.transcripts.iterdir())
    assert len(outputs) == 4 and all(len(n.encode()) <= 255 for n in outputs)
    assert all(n.startswith("interview xxx") for n in outputs)
    daemon.wait_for((daemon.processed / name).exists, 30, "the source moved")

    broken = "broken " + "y" * (255 - len("broken .wav")) + ".wav"
    drop_as(daemon, data_dir / "not_audio.wav", broken)
    daemon.wait_jobs(1, states=("failed",))

    def reports() -> list[str]:  # written just after the job is recorded failed
        return [p.name for p in daemon.failed.iterdir() if p.name.endswith(".error.json")]

    (report,) = daemon.wait_for(reports, 10, "the error report")
    assert len(report.encode()) <= 255
