"""A damaged update state file: impossible times are refused on load, and waits are bounded.

`{"last_attempt": NaN}` used to make the checker thread spin at 100 % of a
core without ever checking; `"next_request_at": 1e308` made `?refresh=1`
answer 500 and silenced background checks for good.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from tests.support.waiting import wait_for
from voxtrald.config import UpdatesConfig
from voxtrald.events import EventLog
from voxtrald.updates import state
from voxtrald.updates.checker import UpdateChecker

REPO = "owner/voxtral"
LATEST = f"/repos/{REPO}/releases/latest"
RELEASE = {"tag_name": "v1.1.0", "name": "Voxtral 1.1.0", "draft": False, "prerelease": False,
           "html_url": f"https://github.com/{REPO}/releases/tag/v1.1.0", "assets": []}


def write_state(folder: Path, text: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / state.STATE_FILE).write_text(text)


def checker(server: HTTPServer, folder: Path, **cfg: Any) -> UpdateChecker:
    conf = UpdatesConfig(repo=REPO, api_url=server.url_for("/").rstrip("/"), **cfg)
    return UpdateChecker(conf, folder, EventLog(), "1.0.0", initial_delay=0,
                         timeout=(2.0, 2.0))


def requests_made(server: HTTPServer) -> int:
    return sum(1 for r, _ in server.log if r.path == LATEST)


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e308", "-5"])
def test_impossible_last_attempt_resets_and_the_background_check_runs(
    httpserver: HTTPServer, tmp_path: Path, caplog: pytest.LogCaptureFixture, value: str
) -> None:
    httpserver.expect_request(LATEST).respond_with_json(RELEASE)
    source = f"{httpserver.url_for('/').rstrip('/')}/repos/{REPO}"
    write_state(tmp_path, f'{{"last_attempt": {value}, "source": "{source}", '
                          f'"dismissed": ["1.0.5"]}}')
    with caplog.at_level(logging.WARNING, logger="voxtrald.updates"):
        c = checker(httpserver, tmp_path, check_interval_hours=24)
    assert [r.message for r in caplog.records if "starting afresh" in r.message] != []
    assert len([r for r in caplog.records if "impossible" in r.message]) == 1
    c.start()
    try:
        # With NaN the thread spun without ever asking; now it checks at once, then sleeps.
        # Wait for the stored result, not just the request: the thread records it after.
        wait_for(lambda: c.check()["latest_version"] == "1.1.0", 10.0,
                 "the background check's result")
        assert requests_made(httpserver) == 1
        # The next check is a day away (it was NaN: due at once, for ever).
        assert c._next_due(24 * 3600.0, False) > time.time() + 23 * 3600.0
        assert c._thread is not None and c._thread.is_alive()
    finally:
        c.stop()
    assert c.check()["dismissed"] is False and "1.0.5" in c._state["dismissed"]


@pytest.mark.parametrize("value", ["1e308", "NaN", "Infinity", "4102444800"])
def test_absurd_wait_does_not_break_refresh_or_silence_checks(
    httpserver: HTTPServer, tmp_path: Path, value: str
) -> None:
    httpserver.expect_request(LATEST).respond_with_json(RELEASE)
    write_state(tmp_path, f'{{"next_request_at": {value}, "last_attempt": {time.time()}}}')
    c = checker(httpserver, tmp_path)
    result = c.check(refresh=True)  # was an OverflowError: a 500 from ?refresh=1
    assert result["error"] is None and result["latest_version"] == "1.1.0"
    assert requests_made(httpserver) == 1


def test_waits_are_clamped_even_when_set_at_run_time(httpserver: HTTPServer,
                                                     tmp_path: Path) -> None:
    httpserver.expect_request(LATEST).respond_with_json(RELEASE)
    c = checker(httpserver, tmp_path)
    c._state["next_request_at"] = 1e308  # as if a server's answer had slipped through
    assert c._next_due(3600.0, False) <= time.time() + 86400.0 + 1
    c.check(refresh=True)  # refused politely (a wait under a day), never a crash
    c._state["last_attempt"] = float("nan")
    assert c._next_due(3600.0, False) <= time.time() + 86400.0 + 1


def test_sane_state_is_kept(tmp_path: Path) -> None:
    now = time.time()
    write_state(tmp_path, f'{{"last_attempt": {now}, "next_request_at": {now + 600}}}')
    loaded = state.load(tmp_path / state.STATE_FILE)
    assert loaded["last_attempt"] == now and loaded["next_request_at"] == now + 600
