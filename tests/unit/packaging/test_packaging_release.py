"""packaging/release.py on a real temporary clone of this repository."""

from __future__ import annotations

import pytest

from tests.support.release_rig import ROOT, SCRIPT, _load_release, release  # noqa: F401 - fixtures


@pytest.mark.parametrize("text", ["1.0.0", "0.1.0", "10.20.30"])
def test_semantic_versions_accepted(text: str) -> None:
    assert release.parse_version(text) == tuple(int(p) for p in text.split("."))


@pytest.mark.parametrize("text", ["1.0", "v1.0.0", "1.0.0-rc1", "01.0.0", "1.0.0.0", "", "x"])
def test_other_versions_refused(text: str) -> None:
    with pytest.raises(release.ReleaseError, match="not a semantic version"):
        release.parse_version(text)


def test_last_tag_is_the_highest_not_the_latest_string() -> None:
    tags = ["v1.9.0", "v1.10.0", "v1.2.3", "nightly", "v2.0", "v2.0.0-rc1"]
    assert release.last_tag(tags) == ((1, 10, 0), "v1.10.0")
    assert release.last_tag(["nightly"]) is None


