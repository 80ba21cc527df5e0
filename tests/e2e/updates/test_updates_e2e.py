"""The update checker inside a real daemon, with a local server standing in for GitHub."""

from __future__ import annotations

import hashlib
import json
import socket
import subprocess
import sys
from collections.abc import Callable
from typing import Any

from pytest_httpserver import HTTPServer

from tests.unit.updates.test_updates_download import make_wheel
from voxtrald.updates.minisign import SecretKey, default_trusted_comment

REPO = "owner/voxtral"
LATEST = f"/repos/{REPO}/releases/latest"


def release(tag: str, assets: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"tag_name": tag, "name": f"Voxtral {tag}", "body": "notes", "draft": False,
            "prerelease": False, "html_url": f"https://github.com/{REPO}/releases/tag/{tag}",
            "published_at": "2025-05-01T10:00:00Z", "assets": assets or []}


def updates_config(server: HTTPServer, **extra: Any) -> dict[str, dict[str, Any]]:
    return {"updates": {"api_url": server.url_for("/").rstrip("/"), "repo": REPO, **extra}}


def announced(d: Any) -> list[str]:
    status, body = d.api("GET", "/api/events?after=0")
    assert status == 200
    return [e["data"]["version"] for e in body["events"] if e["type"] == "update_available"]


def cli(d: Any, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "voxtrald", *args, "--socket", str(d.socket)],
        env=d.env, capture_output=True, text=True, timeout=120,
    )


def test_dismiss_survives_a_restart_and_a_newer_version_is_announced(
    daemon_factory: Callable[..., Any], httpserver: HTTPServer
) -> None:
    httpserver.expect_request(LATEST).respond_with_json(release("v1.1.0"))
    # Automatic checks on: the daemon checks by itself shortly after start-up.
    d = daemon_factory(config=updates_config(httpserver, check_interval_hours=24))
    d.wait_for(lambda: d.status().get("update"), 60, "the start-up update check")
    summary = d.status()["update"]
    assert summary["update_available"] is True and summary["latest_version"] == "1.1.0"
    assert summary["release_url"] == f"https://github.com/{REPO}/releases/tag/v1.1.0"
    # The result is kept, then announced: wait for the event, not only the summary.
    d.wait_for(lambda: announced(d) == ["1.1.0"], 30, "the announcement of 1.1.0")

    status, body = d.api("POST", "/api/updates/dismiss", {"version": "1.1.0"})
    assert status == 200 and body["dismissed"] is True
    assert d.api("POST", "/api/updates/dismiss", {"version": "../../x"})[0] == 400

    d.restart()
    # Checked moments ago: a restart does not ask GitHub again.
    status, body = d.api("GET", "/api/updates/check")
    assert status == 200
    assert body["latest_version"] == "1.1.0" and body["dismissed"] is True
    status, body = d.api("GET", "/api/updates/check?refresh=1")
    assert body["dismissed"] is True and body["update_available"] is True
    assert announced(d) == []  # dismissed (and already announced): silent
    assert len(httpserver.log) == 2

    httpserver.clear()
    httpserver.expect_request(LATEST).respond_with_json(release("v1.2.0"))
    status, body = d.api("GET", "/api/updates/check?refresh=1")
    assert body["latest_version"] == "1.2.0" and body["dismissed"] is False
    d.wait_for(lambda: announced(d) == ["1.2.0"], 30, "the announcement of 1.2.0")
    assert d.status()["update"]["latest_version"] == "1.2.0"


def test_no_server_at_all_is_a_clean_error(daemon_factory: Callable[..., Any]) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    d = daemon_factory(config={"updates": {"api_url": f"http://127.0.0.1:{port}"}})
    status, body = d.api("GET", "/api/updates/check?refresh=1")
    assert status == 200
    assert body["update_available"] is False
    assert body["error"].startswith("cannot reach 127.0.0.1")
    assert d.status()["update"]["error"] == body["error"]
    status, body = d.api("POST", "/api/updates/download")
    assert status == 503 and body["error"]["code"] == "check_failed"
    assert d.api("GET", "/api/health")[0] == 200
    result = cli(d, "check-update")
    assert result.returncode == 1
    assert "Update check failed: cannot reach 127.0.0.1" in result.stdout
    assert "Traceback" not in d.log() + result.stdout + result.stderr


def test_check_and_download_commands(
    daemon_factory: Callable[..., Any], httpserver: HTTPServer
) -> None:
    wheel = "voxtral-1.1.0-py3-none-any.whl"
    payload = make_wheel("1.1.0")
    digest = hashlib.sha256(payload).hexdigest()
    key = SecretKey.generate()
    sums = f"{digest}  {wheel}\n".encode()
    signature = key.sign(sums, default_trusted_comment("SHA256SUMS", version="1.1.0")).encode()
    assets = []
    for name, body in ((wheel, payload), ("SHA256SUMS", sums), ("SHA256SUMS.minisig", signature)):
        httpserver.expect_request(f"/dl/{name}").respond_with_data(body)
        assets.append({"name": name, "size": len(body),
                       "browser_download_url": httpserver.url_for(f"/dl/{name}")})
    httpserver.expect_request(LATEST).respond_with_json(release("v1.1.0", assets))
    d = daemon_factory(config=updates_config(httpserver, public_keys=[key.public.encode()]))

    result = cli(d, "check-update", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["update_available"] is True
    assert data["current_version"] and data["latest_version"] == "1.1.0"
    assert data["release_name"] == "Voxtral v1.1.0" and data["error"] is None

    text = cli(d, "check-update")
    assert text.returncode == 0
    assert "Update available: 1.1.0" in text.stdout

    result = cli(d, "download-update", "--json")
    assert result.returncode == 0, result.stderr
    staged = json.loads(result.stdout)
    assert staged["staged"] is True and staged["sha256"] == digest
    folder = d.state_dir / "updates" / "1.1.0"
    assert (folder / wheel).read_bytes() == payload
    assert json.loads((folder / "manifest.json").read_text())["sha256"] == digest

    assert staged["signed_by"] == key.public.id
    text = cli(d, "download-update")
    assert f"(signed by {key.public.id}, sha256 verified)" in text.stdout, text.stderr

    # This daemon runs from a source checkout: it says how that kind of install is updated.
    status, body = d.api("POST", "/api/updates/apply")
    assert status == 409 and body["error"]["code"] == "not_updatable"
    assert "git pull" in body["error"]["message"] and "make run" in body["error"]["message"]
    result = cli(d, "apply-update")
    assert result.returncode == 1 and "git pull" in result.stderr

    gone = subprocess.run(
        [sys.executable, "-m", "voxtrald", "check-update", "--socket", str(d.root / "none.sock")],
        env=d.env, capture_output=True, text=True, timeout=60,
    )
    assert gone.returncode == 3
    assert "not running" in gone.stderr
