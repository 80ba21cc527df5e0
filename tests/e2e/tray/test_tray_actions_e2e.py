# ruff: noqa: F811 - pytest fixtures imported from traybus.fixtures are parameters here
"""Notifications you can act on, the new menu entries, and the X11 backend, for real.

The real tray process on the shared private desktop (Xvfb, session bus, a
jeepney notification server that advertises actions, records every Notify
and presses buttons with ActionInvoked), against the real daemon where the
scenario is the daemon's (files dropped, failed, retried) and against the
scripted stand-in where it is the tray's own (memory and update buttons,
Recent transcripts, folders a status invents, the X11 backend).
"""

from __future__ import annotations

import contextlib
import json
import shutil
import time
import wave
from collections.abc import Callable
from pathlib import Path

from tests.conftest import DATA, DaemonProc
from tests.support.traybus.bus_services import DesktopServices, Notify
from tests.support.traybus.fake_daemon import FakeDaemon, apply_status, current_job, job
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

pytestmark = desktop_marks(timeout=180)

RELEASE_URL = "https://example.invalid/releases/v1.1.0"
SPEECH = DATA / "fox.wav"


def speech(tmp_path: Path, n: int) -> Path:
    """fox.wav with its last sample changed: the same words, audio the daemon has not seen."""
    with wave.open(str(SPEECH), "rb") as src:
        params = src.getparams()
        frames = bytearray(src.readframes(src.getnframes()))
    frames[-1] = n % 256
    out = tmp_path / f"speech-{n}.wav"
    with wave.open(str(out), "wb") as dst:
        dst.setparams(params)
        dst.writeframes(bytes(frames))
    return out


def note_titled(services: DesktopServices, title: str, timeout: float = 30) -> Notify:
    services.wait_for(lambda: title in services.summaries(), timeout, f"a {title!r} notice")
    return services.by_summary(title)


def click_switch(tray: Tray, label: str) -> None:
    item = next(i for i in tray.menu() if i.label == label and i.checked is not None)
    tray.reader().click(item.id)
    tray.wait_menu(lambda m: any(i.label == label and i.checked is not item.checked for i in m),
                   f"{label!r} switched")


# -- the real daemon -----------------------------------------------------------------------


def test_real_daemon_batches_buttons_retry_and_switches(
    daemon_factory: Callable[..., DaemonProc],
    services: DesktopServices,
    start_tray: Callable[..., Tray],
    tmp_path: Path,
) -> None:
    d = daemon_factory()
    tray = start_tray(d.socket)
    tray.wait_menu(lambda m: m[0].label.startswith("Idle"), "the tray to see the daemon")

    # Two files dropped together: one summary, with its buttons.
    d.drop(speech(tmp_path, 1), "one.wav")
    d.drop(speech(tmp_path, 2), "two.wav")
    summary = note_titled(services, "2 transcripts ready", 90)
    assert not any(s.startswith("Transcript ready") for s in services.summaries())
    assert list(summary.actions) == ["default", "open_folder"]
    assert list(summary.actions.values()) == ["Open latest transcript", "Open folder"]
    assert summary.icon.startswith(str(tmp_path / "cache")), summary.icon

    services.invoke(summary, "default")
    wait_for(tray.opened, 10, "the opener to be called")
    opened = tray.opened()[0]
    assert opened.endswith(".txt") and Path(opened).parent == d.transcripts
    assert Path(opened).stem in ("one", "two") and Path(opened).is_file()
    services.invoke(summary, "open_folder")
    wait_for(lambda: len(tray.opened()) == 2, 10, "the folder to be opened")
    assert tray.opened()[1] == str(d.transcripts)

    # Recent transcripts lists them; a click opens one.
    tray.wait_menu(lambda m: any(i.label == "two.wav" for i in m), "Recent transcripts")

    # A file that cannot be transcribed: Show error opens its report, Retry queues it again.
    d.drop(DATA / "not_audio.wav", "broken.wav")
    failed = note_titled(services, "Transcription failed")
    assert "broken.wav" in failed.body
    assert list(failed.actions) == ["default", "retry"]
    report = d.failed / "broken.wav.error.json"
    wait_for(report.exists, 10, "the error report")
    services.invoke(failed, "default")  # Show error: why, what to do, the folder a click away
    why = note_titled(services, "Why broken.wav failed")
    assert "Put a good copy of broken.wav in the Failed folder" in why.body
    assert list(why.actions.values()) == ["Open Failed folder", "Retry"]
    services.invoke(why, "default")
    wait_for(lambda: str(d.failed) in tray.opened(), 10, "the Failed folder to be opened")
    # The user puts a good copy in its place, then asks again.
    shutil.copyfile(speech(tmp_path, 3), d.failed / "broken.wav")
    services.invoke(failed, "retry")
    note_titled(services, "Transcript ready: broken.wav", 60)
    assert "queued again by request" in d.log()

    # Finished transcriptions switched off in the menu: the next file raises nothing.
    click_switch(tray, "Finished transcriptions")
    # The menu reads the new state as soon as it is set; the file is written just after.
    saved = tmp_path / "tray.json"
    wait_for(lambda: saved.exists() and json.loads(saved.read_text())["notifications"]
             ["job_done"] is False, 10, "the switch saved")
    before = len(services.notes())
    d.drop(speech(tmp_path, 4), "quiet.wav")
    d.wait_for(lambda: any(j["file"] == "quiet.wav" and j["state"] == "done" for j in d.jobs()),
               60, "quiet.wav to be transcribed")
    tray.wait_menu(lambda m: any(i.label == "quiet.wav" for i in m), "quiet.wav in Recent")
    time.sleep(4)  # past the batch's quiet time
    assert len(services.notes()) == before

    # A notification server without buttons: plain notifications, nothing breaks.
    services.with_actions = False
    click_switch(tray, "Finished transcriptions")
    d.drop(speech(tmp_path, 5), "plain.wav")
    plain = note_titled(services, "Transcript ready: plain.wav", 60)
    assert plain.actions == {}
    assert tray.proc.poll() is None and "Traceback" not in tray.output()
    assert tray.output().count("notification server traybus") == 2  # with, then without


# -- the stand-in daemon ----------------------------------------------------------------


def test_memory_and_update_buttons(
    fake: FakeDaemon, desktop: Desktop, services: DesktopServices,
    start_tray: Callable[..., Tray]
) -> None:
    from jeepney import DBusAddress, new_signal
    from jeepney.io.blocking import open_dbus_connection

    tray = start_tray(fake.socket_path)
    polls_after(fake)
    fake.set_memory("warning", 85.0)
    warning = note_titled(services, "Memory warning", 10)
    assert list(warning.actions) == ["default"]
    assert warning.actions["default"] == "Pause transcription"
    # Another program on the bus pressing our button is not the notification server.
    impostor = open_dbus_connection(desktop.bus_address)
    try:
        addr = DBusAddress("/org/freedesktop/Notifications",
                           interface="org.freedesktop.Notifications")
        impostor.send(new_signal(addr, "ActionInvoked", "us", (warning.id, "default")))
        polls_after(fake)
        assert fake.count("POST", "/api/pause") == 0
    finally:
        impostor.close()
    services.invoke(warning, "default")  # Pause transcription
    wait_for(lambda: fake.count("POST", "/api/pause") == 1, 10, "the pause request")

    fake.set_update("1.1.0", RELEASE_URL)
    update = note_titled(services, "Voxtral 1.1.0 is available", 10)
    assert list(update.actions) == ["default", "skip_version"]
    services.invoke(update, "default")  # Open release page
    wait_for(tray.browser_log.exists, 10, "the browser to open")
    assert tray.browser_log.read_text().split() == [RELEASE_URL]
    services.invoke(update, "skip_version")
    wait_for(lambda: fake.count("POST", "/api/updates/dismiss") == 1, 10, "the dismiss call")
    tray.wait_menu(lambda m: not any(i.label.startswith("Update") for i in m), "offer gone")


def test_install_and_restart(
    fake: FakeDaemon, services: DesktopServices, start_tray: Callable[..., Tray]
) -> None:
    """The tray's side of applying an update: the daemon's answers are scripted here."""
    fake.set_update("1.1.0", RELEASE_URL, can_apply=True, event=False)
    fake.refuse_apply("busy", "Voxtral 1.1.0 is already being applied (installing)")
    tray = start_tray(fake.socket_path)
    update = note_titled(services, "Voxtral 1.1.0 is available", 10)
    assert list(update.actions) == ["default", "install_update", "skip_version"]
    assert update.actions["install_update"] == "Install and restart"
    install = "Install 1.1.0 and restart"
    tray.wait_menu(lambda m: any(i.label == install and i.enabled for i in m), "the install item")

    # Refused: the daemon's reason is told, and the item can be used again.
    tray.click(install)
    refused = note_titled(services, "Could not install Voxtral 1.1.0", 10)
    assert refused.body == "Voxtral 1.1.0 is already being applied (installing)."
    assert fake.count("POST", "/api/updates/apply") == 1
    tray.wait_menu(lambda m: any(i.label == install and i.enabled for i in m), "the item back")

    # The notification's button asks for it too; while it runs the item says so.
    fake.apply_answer = None
    services.invoke(update, "install_update")
    wait_for(lambda: fake.count("POST", "/api/updates/apply") == 2, 10, "the apply request")
    items = tray.wait_menu(lambda m: any(i.label == "Installing 1.1.0…" for i in m), "running")
    assert not next(i for i in items if i.label == "Installing 1.1.0…").enabled

    # It fails before the switch: told once, and it can be tried again.
    fake.apply_state = apply_status("failed", "1.1.0")
    fake.emit(EventType.UPDATE_FAILED, version="1.1.0",
              message="cannot apply the update: No space left on device")
    failed = note_titled(services, "Voxtral 1.1.0 was not installed", 10)
    assert failed.body.startswith("Cannot apply the update: No space left on device.")
    tray.wait_menu(lambda m: any(i.label == install and i.enabled for i in m), "the item back")
    tray.click(install)
    wait_for(lambda: fake.count("POST", "/api/updates/apply") == 3, 10, "the second apply")
    fake.apply_state = apply_status("restarting", "1.1.0")
    fake.emit(EventType.UPDATE_RESTARTING, version="1.1.0", previous="1.0.0")
    tray.wait_menu(lambda m: any(i.label == "Restarting into 1.1.0…" for i in m), "restarting")

    # The new version does not come up: the daemon put back tells it as it starts, before
    # the tray is back in touch. One notice, with both versions and the reason.
    fake.status["update"] = {**fake.status["update"], "update_available": False,
                             "rolled_back": True, "can_apply": False}
    fake.apply_state = apply_status()
    fake.restart(("update_rolled_back", {"version": "1.1.0", "restored": "1.0.0",
                                         "reason": "it exited during its first start (code 3)"}))
    title = "Voxtral 1.1.0 did not start properly; back on 1.0.0"
    rolled = note_titled(services, title, 20)
    assert rolled.body == ("It exited during its first start (code 3). "
                           "Voxtral 1.1.0 is not offered again.")
    tray.wait_menu(lambda m: not any(i.label.startswith(("Install", "Restarting")) for i in m),
                   "no install item")
    # Neither the live events nor a restarted tray tell it again.
    tray.stop()
    again = start_tray(fake.socket_path)
    again.wait_menu(lambda m: m[0].label == "Idle", "the tray to see the daemon")
    polls_after(fake)
    assert services.summaries().count(title) == 1
    assert services.summaries().count("Voxtral 1.1.0 was not installed") == 1
    assert "Traceback" not in tray.output() + again.output()


def test_recent_open_log_and_only_real_local_folders(
    fake: FakeDaemon, services: DesktopServices, start_tray: Callable[..., Tray], tmp_path: Path
) -> None:
    transcripts = tmp_path / "transcripts"
    transcripts.mkdir()
    for i in (1, 2):
        (transcripts / f"talk{i}.txt").write_text("hello")
    fake.jobs = [
        job(i, "done", f"talk{i}.wav", outputs=[str(transcripts / f"talk{i}.txt")])
        for i in (1, 2)
    ]
    # A status that invents folders: a web address and a folder that does not exist.
    invented = tmp_path / "invented"
    fake.status["folders"] = {"inbox": "https://evil.example/x", "transcripts": str(invented),
                              "processed": "", "failed": ""}
    fake.status["queue"]["done"] = 2
    tray = start_tray(fake.socket_path)
    items = tray.wait_menu(lambda m: any(i.label == "talk2.wav" for i in m), "Recent")
    recent = [i.label for i in items if i.label.startswith("talk")]
    assert recent == ["talk2.wav", "talk1.wav"]
    tray.click("talk1.wav")
    wait_for(tray.opened, 30, "the transcript to open")
    assert tray.opened() == [str(transcripts / "talk1.txt")]

    tray.click("Open inbox folder")
    tray.click("Open transcripts folder")
    tray.click("Open log")
    wait_for(lambda: len(tray.opened()) == 2, 30, "the log to open")
    log_file = Path(tray.opened()[1])
    assert log_file.name == "voxtral-tray.log" and log_file.is_relative_to(tmp_path / "state")
    assert "daemon socket" in log_file.read_text()
    # Each click runs in a thread of its own: the refusals may be logged after the log opened.
    refusals = ["not opening 'https://evil.example/x': not an existing local folder",
                f"not opening '{invented}': not an existing local folder"]
    try:
        wait_for(lambda: all(line in tray.output() for line in refusals), 30,
                 "both refusals logged")
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n--- the tray's output ---\n{tray.output()}") from None
    assert not invented.exists()


def test_x11_backend_without_pygobject(
    fake: FakeDaemon,
    desktop: Desktop,
    services: DesktopServices,
    start_tray: Callable[..., Tray],
    tmp_path: Path,
) -> None:
    """pip install without the desktop extra: no PyGObject, no dbus-python; X11 icon."""
    from tests.support.traybus.xembed import XEmbedTray

    hidden = tmp_path / "hidden"
    for module in ("gi", "dbus"):
        (hidden / module).mkdir(parents=True)
        (hidden / module / "__init__.py").write_text(
            f"raise ImportError('{module} is not installed here')\n")
    fake.status["current_job"] = current_job(3, "会議 — notes.m4a", 40.0, 12)
    fake.status["state"] = "transcribing"
    xtray = XEmbedTray(desktop.display)
    try:
        tray = start_tray(fake.socket_path, extra_env={"PYTHONPATH": str(hidden)})
        # pystray asks to be docked again at each icon change: one window all the same.
        (window,) = set(wait_for(xtray.icons, 30, "the icon to dock in the X11 tray"))
        try:
            title = wait_for(lambda: "Transcribing" in (t := xtray.title(window)) and t, 30,
                             "the title")
        except AssertionError as exc:
            raise AssertionError(f"{exc}; it reads {xtray.title(window)!r}\n--- the tray's "
                                 f"output ---\n{tray.output()}") from None
        assert title.startswith("Voxtral - Transcribing ?? - notes.m4a 40 % · ")
        assert title.endswith(" left · RAM 50 %")
        wait_for(lambda: len(xtray.colours(window)) > 1, 10, "the icon to be drawn")
        # No black corners: the icon is opaque, its own colour to the edge.
        corners = {xtray.pixel(window, x, y) for x in (0, 23) for y in (0, 23)}
        assert all(p[:3] != b"\0\0\0" for p in corners), corners

        # A click shows what a tooltip would (XEmbed has none), with the first actions. The
        # tray asks X for clicks once its window is up; a click before that is not seen,
        # so click until the notice comes.
        def clicked() -> bool:
            xtray.click(window)
            with contextlib.suppress(AssertionError):
                return bool(note_titled(services, "Voxtral", 2))
            return False

        wait_for(clicked, 30, "a click on the icon to show its notice")
        status = note_titled(services, "Voxtral", 1)
        assert status.body.startswith("Transcribing 会議 — notes.m4a 40 % · "), status.body
        assert list(status.actions.values()) == ["Open transcripts", "Pause"]

        fake.set_memory("warning", 85.0)
        note = note_titled(services, "Memory warning", 15)
        assert list(note.actions.values()) == ["Pause transcription"]
        assert tray.proc.poll() is None
        out = tray.output()
        assert out.count("tray icon via pystray xorg backend") == 1, out
        assert out.count("notifications via D-Bus (jeepney)") == 1, out
        assert "UnicodeEncodeError" not in out and "Traceback" not in out
    finally:
        xtray.close()

