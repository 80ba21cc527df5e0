"""Folder rules reach the job: options and formats applied, a held folder waits uncounted."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.fake_worker import chunked
from tests.support.job_rig import Rig
from voxtrald.jobs.rules import RULES_NAME
from voxtrald.worker import protocol as wp


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    seen: list[wp.Transcribe] = []

    def script(req: wp.Transcribe) -> list[wp.Reply | None]:
        seen.append(req)
        return chunked(req.job_id, ["guten Tag"], language="de")

    r = Rig(tmp_path, script)
    r.seen = seen  # type: ignore[attr-defined]
    yield r
    r.close()


def test_the_folders_rules_reach_the_worker_and_the_outputs(rig: Rig) -> None:
    folder = rig.cfg.paths.inbox / "de"
    folder.mkdir()
    (folder / RULES_NAME).write_text('language = "de"\ninitial_prompt = "Interview."\n'
                                     'formats = ["txt"]\n')
    job = rig.drop("de/talk.wav")
    done = rig.run_next()
    assert done.state == "done"
    options = rig.seen[-1].options  # type: ignore[attr-defined]
    assert options.language == "de" and options.initial_prompt == "Interview."
    out = rig.cfg.paths.transcripts / "de"
    assert sorted(p.name for p in out.iterdir()) == ["talk.txt"]
    assert [h.file for h in rig.store.search("guten", 5)] == [job.file]


def test_a_broken_rules_file_holds_the_file_uncounted_until_it_is_fixed(rig: Rig) -> None:
    folder = rig.cfg.paths.inbox / "held"
    folder.mkdir()
    rules = folder / RULES_NAME
    rules.write_text("colour = 'blue'\n")
    job = rig.drop("held/talk.wav")
    after = rig.run_next()
    assert after.state == "queued" and after.attempts == 0
    assert rig.seen == []  # type: ignore[attr-defined]
    assert "unknown key 'colour'" in rig.runner.holds.problems()[0]
    rules.write_text('language = "de"\n')
    assert rig.run_next().state == "done"
    assert rig.runner.holds.problems() == []
    assert rig.job(job.id).attempts == 1
