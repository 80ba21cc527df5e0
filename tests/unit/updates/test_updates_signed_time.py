"""A release signed before the installed one is not an update: no freezing on an old release.

A fake GitHub (a real local HTTP server) offers 1.1.0, validly signed, but
signed before the release this install runs; a newer release exists and is
being hidden. The download must be refused, and one signed later accepted.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from tests.unit.updates.test_updates_download import PAYLOAD, WHEEL, Harness, asset
from voxtrald.install.envbuild import COMPLETE
from voxtrald.install.layout import signed_at
from voxtrald.updates.minisign import default_trusted_comment

INSTALLED_SIGNED_AT = 1_800_000_000


@pytest.fixture
def h(httpserver: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Harness:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    return Harness(httpserver, tmp_path)


def _comment(when: int) -> str:
    """minisign's trusted comment as the release script writes it, signed at `when`."""
    fields = default_trusted_comment("SHA256SUMS", version="1.1.0").split("\t")[1:]
    return "\t".join([f"timestamp:{when}", *fields])


def test_a_release_signed_before_the_installed_one_is_refused(h: Harness) -> None:
    h.publish([asset(WHEEL, h.url(f"/dl/{WHEEL}"), len(PAYLOAD))],
              comment=_comment(INSTALLED_SIGNED_AT - 86_400))
    h.host(f"/dl/{WHEEL}")
    checker = h.checker()
    checker.require_signed_after(INSTALLED_SIGNED_AT)
    result = checker.download()
    assert result["code"] == "stale_release", result
    assert h.nothing_staged()


def test_a_release_signed_after_the_installed_one_is_staged_with_its_time(h: Harness) -> None:
    later = INSTALLED_SIGNED_AT + 86_400
    h.publish([asset(WHEEL, h.url(f"/dl/{WHEEL}"), len(PAYLOAD))], comment=_comment(later))
    h.host(f"/dl/{WHEEL}")
    checker = h.checker()
    checker.require_signed_after(INSTALLED_SIGNED_AT)
    assert checker.download()["staged"]
    assert checker.staged()["signed_at"] == later  # what the install will record


def test_the_installed_release_signing_time_is_read_from_its_folder(tmp_path: Path) -> None:
    (tmp_path / COMPLETE).write_text(json.dumps({"version": "1.0.0", "signed_at": 123}))
    assert signed_at(tmp_path) == 123
    (tmp_path / COMPLETE).write_text(json.dumps({"version": "1.0.0"}))
    assert signed_at(tmp_path) is None and signed_at(None) is None
