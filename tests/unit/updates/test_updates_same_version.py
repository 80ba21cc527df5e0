"""Two spellings of one version are one version: one staging folder, one dismissal."""

from __future__ import annotations

from pathlib import Path

import pytest

from voxtrald.events import EventLog
from voxtrald.updates.checker import UpdateChecker
from voxtrald.updates.release import evaluate, normalize_release
from voxtrald.updates.versions import canonical, parse_tag


@pytest.mark.parametrize("tag", ["v1.1", "v1.1.0", "v1.1.0.0", "1.1.0.0.0"])
def test_every_spelling_of_a_version_is_one_name(tag: str) -> None:
    assert normalize_release({"tag_name": tag})["version"] == "1.1.0"


def test_prerelease_and_post_parts_stay_apart() -> None:
    assert canonical(parse_tag("v2.0rc1")) == "2.0.0rc1"
    assert canonical(parse_tag("v2.0.0.post1")) == "2.0.0.post1"
    assert canonical(parse_tag("v1.1.0.1")) == "1.1.0.1"


def test_a_version_dismissed_under_another_spelling_stays_dismissed() -> None:
    release = normalize_release({"tag_name": "v1.1.0.0", "assets": []})
    assert evaluate(release, "1.0.0", "stable", ["1.1"])["dismissed"] is True


def test_dismissing_any_spelling_records_one_name(tmp_path: Path) -> None:
    from voxtrald.config import UpdatesConfig

    checker = UpdateChecker(UpdatesConfig(check_interval_hours=0), tmp_path, EventLog(),
                            "1.0.0", failed_versions=dict)
    checker.dismiss("v1.1.0.0")
    assert checker._state["dismissed"] == ["1.1.0"]
