# ruff: noqa: F811 - pytest fixtures imported from traybus.fixtures are parameters here
"""The real voxtral-tray process on a private desktop, against a stand-in daemon.

Xvfb gives pystray's appindicator backend a display; a private session bus
carries the notifications (recorded by a stand-in server) and the tray item,
whose menu is read and clicked over com.canonical.dbusmenu as a panel would.
The daemon here is a scripted one on a real Unix socket, so each tray rule is
shown quickly and exactly; tests against the real daemon live beside it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.traybus.bus_services import DesktopServices
from tests.support.traybus.fake_daemon import FakeDaemon
from tests.support.traybus.fixtures import (  # noqa: F401 - fixtures
    Tray,
    desktop,
    fake,
    polls_after,
    services,
    shared_desktop,
    start_tray,
)
from tests.support.traybus.session import Desktop, desktop_marks
from tests.support.waiting import wait_for
from voxtrald.states import EventType

pytestmark = desktop_marks(timeout=120)

RELEASE_URL = "https://example.invalid/releases/v1.1.0"


def wait_until(pred: Callable[[], Any], timeout: float, what: str) -> Any:
    return wait_for(pred, timeout, what)


def test_memory_notifications_one_per_crossing(
    fake: FakeDaemon, services: DesktopServices, start_tray: Callable[..., Tray]
) -> None:
    tray = start_tray(fake.socket_path)
    tray.reader()
    polls_after(fake)
    assert services.summaries() == []

    fake.set_memory("warning", 85.0)
    services.wait_for(lambda: "Memory warning" in services.summaries(), 10, "a warning notice")
    note = services.notes()[0]
    assert "85 %" in note.body and "1.5 GB" in note.body and note.app_name == "Voxtral"

    # Hovering around the line: the daemon's level stays "warning", the tray stays quiet.
    for percent in (79.0, 81.0, 79.5, 80.5, 81.0):
        fake.set_memory("warning", percent)
        polls_after(fake, 1)
    fake.set_memory("critical", 95.0)
    services.wait_for(lambda: "Memory critical" in services.summaries(), 10, "a critical notice")
    assert services.notes()[-1].hints.get("urgency") == ("y", 2)

    items = tray.wait_menu(lambda m: m[1].label.startswith("Memory critical"), "critical shown")
    assert items[1].label == "Memory critical — close other applications"
    fake.set_memory("normal", 50.0)
    tray.wait_menu(lambda m: not any(i.label.startswith("Memory") and i.parent == 0 for i in m),
                   "normal again")
    wait_until(lambda: tray.reader().item_property("Title") == "Voxtral — Idle · RAM 50 %", 10,
               "the tooltip to show RAM 50 %")
    polls_after(fake)
    assert services.summaries() == ["Memory warning", "Memory critical"]


def test_reminder_and_dismiss_memory_warnings(
    fake: FakeDaemon, services: DesktopServices, start_tray: Callable[..., Tray]
) -> None:
    tray = start_tray(fake.socket_path)
    fake.set_memory("critical", 93.0)
    services.wait_for(lambda: services.summaries() == ["Memory critical"], 15, "critical")
    fake.set_memory("critical", 94.0, reminder=True)
    services.wait_for(lambda: "Memory still critical" in services.summaries(), 10, "reminder")

    items = tray.wait_menu(lambda m: any(i.label == "Dismiss memory warnings" for i in m), "item")
    assert next(i for i in items if i.label == "Dismiss memory warnings").enabled
    tray.click("Dismiss memory warnings")
    tray.wait_menu(lambda m: any(i.label == "Memory warnings dismissed" for i in m), "dismissed")
    assert not next(i for i in tray.menu() if i.label == "Memory warnings dismissed").enabled
    fake.set_memory("critical", 95.0, reminder=True)
    fake.set_memory("warning", 85.0)
    fake.set_memory("critical", 96.0)
    polls_after(fake)
    assert services.summaries() == ["Memory critical", "Memory still critical"]

    # Back to normal lifts the silence: the next crossing is announced again.
    fake.set_memory("normal", 50.0)
    polls_after(fake)
    fake.set_memory("warning", 85.0)
    services.wait_for(lambda: services.summaries()[-1:] == ["Memory warning"], 10, "warning")


def test_update_notice_once_then_never_again(
    fake: FakeDaemon, services: DesktopServices, start_tray: Callable[..., Tray], tmp_path: Path
) -> None:
    tray = start_tray(fake.socket_path)
    fake.set_update("1.1.0", RELEASE_URL)
    services.wait_for(
        lambda: "Voxtral 1.1.0 is available" in services.summaries(), 10, "an update notice"
    )
    items = tray.wait_menu(lambda m: any(i.label.startswith("Update 1.1.0") for i in m), "offer")
    offer = next(i for i in items if i.label.startswith("Update 1.1.0"))
    assert offer.label == "Update 1.1.0 available — open release page" and offer.enabled
    assert "Skip version 1.1.0" in tray.labels()

    tray.click("Update 1.1.0")
    browser_log = tmp_path / "browser.log"
    wait_until(browser_log.exists, 10, "the browser script to run")
    assert browser_log.read_text().split() == [RELEASE_URL]

    # The daemon restarts (new instance, events from 1): nothing is repeated.
    fake.restart()
    fake.emit(EventType.UPDATE_AVAILABLE, version="1.1.0", release_url=RELEASE_URL)
    polls_after(fake)
    # The tray restarts: the version is remembered on disk.
    tray.stop()
    again = start_tray(fake.socket_path)
    again.wait_menu(lambda m: any(i.label.startswith("Update 1.1.0") for i in m), "offer again")
    polls_after(fake)
    assert services.summaries() == ["Voxtral 1.1.0 is available"]
    assert '"1.1.0"' in (tmp_path / "tray.json").read_text()

    # Skip it: the daemon is told, the offer goes; a newer release is announced.
    again.click("Skip version 1.1.0")
    wait_until(lambda: fake.count("POST", "/api/updates/dismiss") == 1, 10, "the dismiss call")
    dismiss = [body for _, path, body in fake.requests if path == "/api/updates/dismiss"]
    assert dismiss == [{"version": "1.1.0"}]
    again.wait_menu(lambda m: not any(i.label.startswith("Update") for i in m), "offer gone")
    fake.set_update("1.2.0", "http://example.invalid/insecure")
    services.wait_for(lambda: "Voxtral 1.2.0 is available" in services.summaries(), 10, "1.2.0")
    items = again.wait_menu(lambda m: any(i.label.startswith("Update 1.2.0") for i in m), "1.2")
    assert not next(i for i in items if i.label.startswith("Update 1.2.0")).enabled


def test_menu_over_dbus_and_click_pauses(
    fake: FakeDaemon, services: DesktopServices, start_tray: Callable[..., Tray]
) -> None:
    tray = start_tray(fake.socket_path)
    items = tray.wait_menu(lambda m: m[0].label == "Idle", "the idle menu")
    top = [i for i in items if i.parent == 0]
    assert [(i.label, i.enabled) for i in top] == [
        ("Idle", False),
        ("Pause transcription", True),
        ("Open inbox folder", True),
        ("Open transcripts folder", True),
        ("Recent transcripts", True),
        ("Check for updates now", True),
        ("Notifications", True),
        ("Open log", True),
        ("About Voxtral", True),
        ("Quit Voxtral tray", True),
    ]
    recent = next(i.id for i in top if i.label == "Recent transcripts")
    assert [(i.label, i.enabled) for i in items if i.parent == recent] == [
        ("No transcripts yet", False)]
    switches = next(i.id for i in top if i.label == "Notifications")
    assert [(i.label, i.checked) for i in items if i.parent == switches] == [
        ("Memory warnings", True), ("New versions", True),
        ("Finished transcriptions", True), ("Failed transcriptions", True)]
    tray.click("Pause transcription")
    wait_until(lambda: fake.snapshot()["paused"], 10, "the daemon to be paused")
    assert fake.count("POST", "/api/pause") == 1
    items = tray.wait_menu(lambda m: m[0].label == "Paused", "the paused menu")
    assert "Resume transcription" in [i.label for i in items]
    tray.click("Resume transcription")
    wait_until(lambda: not fake.snapshot()["paused"], 10, "the daemon to resume")

    tray.click("Quit", rebuilt=False)
    assert tray.proc.wait(15) == 0


def test_daemon_away_then_back(
    fake: FakeDaemon, services: DesktopServices, start_tray: Callable[..., Tray]
) -> None:
    fake.set_memory("warning", 86.0)
    fake.stop()
    tray = start_tray(fake.socket_path)
    items = tray.wait_menu(lambda m: "not running" in m[0].label, "the offline menu")
    assert not items[0].enabled
    assert [i.label for i in items if i.enabled and i.parent == 0] == [
        "Start Voxtral", "Open inbox folder", "Open transcripts folder", "Recent transcripts",
        "Notifications", "Open log", "About Voxtral", "Quit Voxtral tray"]
    assert tray.reader().item_property("Title") == "Voxtral — not running"

    fake.start()
    services.wait_for(lambda: services.summaries() == ["Memory warning"], 20, "the warning")
    tray.wait_menu(lambda m: m[0].label == "Idle", "the online menu")
    fake.restart()
    polls_after(fake)
    fake.stop()
    tray.wait_menu(lambda m: "not running" in m[0].label, "the offline menu again")
    fake.start()
    tray.wait_menu(lambda m: m[0].label == "Idle", "online again")
    polls_after(fake)
    assert services.summaries() == ["Memory warning"]
    assert tray.proc.poll() is None
    assert "Traceback" not in tray.output()


def test_missing_notification_server_is_logged_once(
    fake: FakeDaemon,
    desktop: Desktop,
    services: DesktopServices,
    start_tray: Callable[..., Tray],
) -> None:
    services.drop_notifications(desktop.bus_address)
    tray = start_tray(fake.socket_path)
    fake.set_memory("warning", 85.0)
    fake.set_memory("critical", 95.0)
    tray.wait_menu(lambda m: any("critical" in i.label for i in m), "the critical menu")
    polls_after(fake)
    assert tray.proc.poll() is None
    out = tray.output()
    assert out.count("WARNING notification not shown") == 1, out
    assert out.count("notifications via D-Bus (jeepney)") == 1, out


def test_no_display_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "c.toml").write_text("")
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "from tray.app import main; raise SystemExit(main())",
            "--socket",
            str(tmp_path / "none.sock"),
            "--config",
            str(tmp_path / "c.toml"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        input="",
    )
    assert proc.returncode == 1, proc.stderr
    assert "needs a graphical session" in proc.stderr
    assert "Traceback" not in proc.stderr


# -- the real daemon -----------------------------------------------------------------------

REPO = "o/r"
LATEST = f"/repos/{REPO}/releases/latest"


@pytest.fixture
def fake_memory(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    from voxtrald.memory.fakeproc import write_meminfo_percent

    procfs, cgroot = tmp_path / "fakeproc", tmp_path / "fakecgroup"
    procfs.mkdir()
    cgroot.mkdir()
    write_meminfo_percent(procfs, 16 * 2**30, 50)
    return procfs, {"VOXTRAL_PROCFS": str(procfs), "VOXTRAL_CGROUP_ROOT": str(cgroot)}


def test_real_daemon_memory_crossings(
    daemon_factory: Callable[..., Any],
    fake_memory: tuple[Path, dict[str, str]],
    services: DesktopServices,
    start_tray: Callable[..., Tray],
) -> None:
    from voxtrald.memory.fakeproc import write_meminfo_percent

    procfs, env = fake_memory

    def set_percent(p: float) -> None:
        write_meminfo_percent(procfs, 16 * 2**30, p)

    d = daemon_factory(config={"memory": {"interval_seconds": 0.5}}, env=env)
    tray = start_tray(d.socket)
    tray.wait_menu(lambda m: m[0].label.startswith("Idle"), "the tray to see the daemon")

    set_percent(85)
    d.wait_for(lambda: (d.status().get("memory") or {}).get("level") == "warning", 20, "warn")
    services.wait_for(lambda: "Memory warning" in services.summaries(), 20, "the warning")
    set_percent(95)
    services.wait_for(lambda: "Memory critical" in services.summaries(), 20, "the critical")
    set_percent(50)
    d.wait_for(lambda: (d.status().get("memory") or {}).get("level") == "normal", 20, "normal")
    # Hover around 80 % for a while: at most one more warning.
    for p in (79, 81, 79, 81, 80, 79, 81, 80) * 2:
        set_percent(p)
        time.sleep(0.5)
    set_percent(50)
    d.wait_for(lambda: (d.status().get("memory") or {}).get("level") == "normal", 20, "normal")
    wait_until(lambda: tray.reader().item_property("Title").endswith("RAM 50 %"), 20,
               "RAM 50 % shown")
    summaries = services.summaries()
    assert summaries[:2] == ["Memory warning", "Memory critical"], summaries
    assert summaries.count("Memory warning") <= 2 and summaries.count("Memory critical") == 1
    assert all(s.startswith("Memory") for s in summaries)


def test_real_daemon_update_notice_and_pause_click(
    daemon_factory: Callable[..., Any],
    httpserver: Any,
    services: DesktopServices,
    start_tray: Callable[..., Tray],
    tmp_path: Path,
) -> None:
    httpserver.expect_request(LATEST).respond_with_json(
        {
            "tag_name": "v1.1.0",
            "name": "Voxtral v1.1.0",
            "body": "notes",
            "draft": False,
            "prerelease": False,
            "html_url": RELEASE_URL,
            "published_at": "2025-05-01T10:00:00Z",
            "assets": [],
        }
    )
    config = {
        "updates": {
            "api_url": httpserver.url_for("/").rstrip("/"),
            "repo": REPO,
            "check_interval_hours": 24,
        }
    }
    d = daemon_factory(config=config)
    tray = start_tray(d.socket)
    services.wait_for(
        lambda: "Voxtral 1.1.0 is available" in services.summaries(), 60, "the update notice"
    )
    tray.wait_menu(lambda m: any(i.label.startswith("Update 1.1.0") for i in m), "the offer")
    tray.click("Update 1.1.0")
    browser_log = tmp_path / "browser.log"
    wait_until(browser_log.exists, 10, "the browser script to run")
    assert browser_log.read_text().split() == [RELEASE_URL]

    tray.click("Pause transcription")
    d.wait_for(lambda: d.status().get("paused") is True, 15, "the daemon to pause")
    tray.wait_menu(lambda m: any(i.label == "Resume transcription" for i in m), "Resume")

    # Neither a tray restart nor a daemon restart repeats the notice.
    tray.stop()
    d.restart()
    again = start_tray(d.socket)
    again.wait_menu(lambda m: any(i.label.startswith("Update 1.1.0") for i in m), "offer again")
    time.sleep(2)
    assert services.summaries().count("Voxtral 1.1.0 is available") == 1


def test_cli_and_tray_find_a_socket_named_only_in_the_config_file(
    daemon_factory: Callable[..., Any], start_tray: Callable[..., Tray]
) -> None:
    """One socket rule: with no --socket and no VOXTRAL_SOCKET, all three read [api] socket."""
    d = daemon_factory(socket_in_config=True)
    assert "--socket" not in d.argv and "VOXTRAL_SOCKET" not in d.env
    env = {k: v for k, v in os.environ.items() if k != "VOXTRAL_SOCKET"}
    env["VOXTRAL_CONFIG"] = str(d.config_path)
    cli = subprocess.run(
        [sys.executable, "-m", "voxtrald", "status", "--json"],
        env=env, capture_output=True, text=True, timeout=60,
    )
    assert cli.returncode == 0, cli.stderr
    assert json.loads(cli.stdout)["state"] == "idle"

    tray = start_tray(None, config_extra=f"[api]\nsocket = {json.dumps(str(d.socket))}\n")
    tray.wait_menu(lambda m: m[0].label.startswith("Idle"), "the tray to see the daemon")
    assert f"daemon socket {d.socket}," in tray.output()

