# ruff: noqa: F811 - pytest fixtures imported from traybus.fixtures are parameters here
"""What bothered a person every day, through the real tray on the private desktop.

The menu stays open while a file is transcribing (its D-Bus items are not
rebuilt), each notification button is drawn once by a server that draws the
"default" action as a button (as xfce4-notifyd does), failures stay findable
in the menu, a pause from a memory notice is recalled, files finishing
together share one notice, and a stopped daemon can be started from the menu.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import wait_for
from tests.support.traybus.bus_services import DesktopServices, Notify
from tests.support.traybus.fake_daemon import (
    FakeDaemon,
    current_job,
    job,
    memory_summary,
    update_summary,
)
from tests.support.traybus.fixtures import (  # noqa: F401 - fixtures
    Tray,
    desktop,
    fake,
    polls_after,
    services,
    shared_desktop,
    start_tray,
)
from tests.support.traybus.session import desktop_marks

pytestmark = desktop_marks(timeout=180)


def note_titled(services: DesktopServices, title: str, timeout: float = 20) -> Notify:
    services.wait_for(lambda: title in services.summaries(), timeout, f"a {title!r} notice")
    return services.by_summary(title)


def drawn_buttons(note: Notify) -> list[str]:
    """The buttons a server that draws "default" as a button shows: every action."""
    return list(note.actions.values())


@pytest.fixture
def progressing(fake: FakeDaemon) -> Iterator[threading.Event]:
    """A transcription whose figures change at every poll: percent, ETA, free RAM."""
    stop = threading.Event()

    def run() -> None:
        pct = 0.0
        while not stop.wait(0.3):
            pct = (pct + 0.7) % 100
            with fake.cond:
                fake.status["state"] = "transcribing"
                fake.status["current_job"] = current_job(7, "talk.m4a", pct, 600 - pct * 6)
                fake.status["memory"] = memory_summary("normal", 40 + pct / 10,
                                                       9 - pct / 50, "")

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    yield stop
    stop.set()
    thread.join(2)


def test_menu_is_not_rebuilt_while_a_file_transcribes(
    fake: FakeDaemon, services: DesktopServices, start_tray: Callable[..., Tray],
    tmp_path: Path, progressing: threading.Event,
) -> None:
    """Open Recent transcripts and click in it 20 times, the figures changing each time."""
    transcripts = tmp_path / "transcripts"
    transcripts.mkdir()
    (transcripts / "talk1.txt").write_text("hello\n")
    fake.jobs = [job(1, "done", "talk1.wav", outputs=[str(transcripts / "talk1.txt")])]
    fake.status["queue"]["done"] = 1
    tray = start_tray(fake.socket_path)
    tray.wait_menu(lambda m: any(i.label == "talk1.wav" for i in m)
                   and m[0].label == "Transcribing talk.m4a", "the menu of a transcription")
    reader = tray.reader()
    titles = set()
    for round_ in range(20):
        items = tray.menu()
        recent = next(i for i in items if i.label == "Recent transcripts")
        target = next(i for i in items if i.label == "talk1.wav")
        reader.opened(recent.id)
        shown = reader.revision()
        title = reader.item_property("Title")
        titles.add(title)
        # The person reads the submenu for a while before clicking; the tray polls and the
        # figures change meanwhile (a poll, and a new tooltip, before the click).
        polls = fake.count("GET", "/api/status")
        wait_for(lambda t=title, p=polls: fake.count("GET", "/api/status") > p
                 and reader.item_property("Title") != t, 10,
                 f"new figures while the menu is open ({round_ + 1})")
        titles.add(reader.item_property("Title"))
        # A rebuild now would close the menu under the pointer (a click rebuilds it
        # afterwards, once the menu has closed anyway: pystray's way).
        assert reader.revision() == shown, f"the menu was rebuilt while open ({round_ + 1})"
        reader.click(target.id)
        wait_for(lambda n=round_: len(tray.opened()) == n + 1, 10, f"click {round_ + 1} of 20")
    assert all(t.startswith("Voxtral — Transcribing talk.m4a ") for t in titles), titles
    assert len(titles) > 10  # the tooltip carries the moving figures instead
    assert tray.opened() == [str(transcripts / "talk1.txt")] * 20


def test_each_button_once_on_a_server_that_draws_default(
    fake: FakeDaemon, services: DesktopServices, start_tray: Callable[..., Tray],
    tmp_path: Path,
) -> None:
    transcripts = tmp_path / "transcripts"
    transcripts.mkdir()
    (transcripts / "a.txt").write_text("And so, my fellow Americans\nmore\n")
    tray = start_tray(fake.socket_path)
    tray.wait_menu(lambda m: m[0].label == "Idle", "the tray to see the daemon")
    fake.emit("job_done", id=1, file="a.wav", outputs=[str(transcripts / "a.txt")], warnings=[])
    ready = note_titled(services, "Transcript ready: a.wav")
    assert ready.body == "“And so, my fellow Americans”"
    fake.jobs = [job(2, "failed", "b.wav", error="not audio")]
    fake.emit("job_failed", id=2, file="b.wav", error="not audio", final=True)
    failed = note_titled(services, "Transcription failed")
    fake.set_memory("critical", 93.0)
    memory = note_titled(services, "Memory critical")
    fake.set_update("1.1.0", "https://example.invalid/r")
    update = note_titled(services, "Voxtral 1.1.0 is available")
    for note in (ready, failed, memory, update):
        buttons = drawn_buttons(note)
        assert buttons and len(buttons) == len(set(buttons)), (note.summary, buttons)
    assert drawn_buttons(ready) == ["Open transcript", "Open folder"]
    assert drawn_buttons(memory) == ["Pause transcription"]
    assert "voxtrald pause" not in memory.body and memory.body.count("%") == 1
    assert Path(memory.icon).name == "voxtral-critical.png"
    # The body click still does the first thing: opening the transcript.
    services.invoke(ready, "default")
    wait_for(tray.opened, 10, "the transcript to open")
    assert tray.opened() == [str(transcripts / "a.txt")]


def test_failures_stay_findable_and_an_empty_transcript_is_no_success(
    fake: FakeDaemon, services: DesktopServices, start_tray: Callable[..., Tray],
    tmp_path: Path,
) -> None:
    failed_dir = tmp_path / "failed"
    failed_dir.mkdir()
    transcripts = tmp_path / "transcripts"
    transcripts.mkdir()
    (transcripts / "interview.txt").write_bytes(b"")
    tray = start_tray(fake.socket_path)
    tray.wait_menu(lambda m: m[0].label == "Idle", "the tray to see the daemon")
    fake.emit("job_done", id=4, file="interview.flac",
              outputs=[str(transcripts / "interview.txt")],
              warnings=["decoded 0.1 s of 11.0 s: the file may be truncated"])
    note = note_titled(services, "Nothing transcribed: interview.flac")
    assert note.body.startswith("Decoded 0.1 s of 11.0 s")
    assert not any(s.startswith("Transcript ready") for s in services.summaries())

    fake.status["queue"]["failed"] = 3
    items = tray.wait_menu(lambda m: any(i.label.startswith("3 failed") for i in m),
                           "the failed count in the menu")
    assert "Open Failed folder" in [i.label for i in items]
    assert "interview.flac" not in [i.label for i in items]  # not in Recent
    tray.click("Open Failed folder")
    wait_for(tray.opened, 10, "the Failed folder to open")
    assert tray.opened() == [str(failed_dir)]


def test_a_pause_from_the_memory_notice_is_recalled(
    fake: FakeDaemon, services: DesktopServices, start_tray: Callable[..., Tray],
) -> None:
    tray = start_tray(fake.socket_path)
    tray.wait_menu(lambda m: m[0].label == "Idle", "the tray to see the daemon")
    fake.set_memory("critical", 94.0)
    critical = note_titled(services, "Memory critical")
    services.invoke(critical, "default")  # Pause transcription
    wait_for(lambda: fake.count("POST", "/api/pause") == 1, 10, "the pause request")
    tray.wait_menu(lambda m: m[0].label == "Paused", "the tray to show the pause")
    fake.set_memory("normal", 50.0)
    back = note_titled(services, "Memory back to normal — transcription still paused")
    assert drawn_buttons(back) == ["Resume transcription"]
    services.invoke(back, "default")
    wait_for(lambda: fake.count("POST", "/api/resume") == 1, 10, "the resume request")


def test_files_finishing_together_get_one_notice(
    fake: FakeDaemon, services: DesktopServices, start_tray: Callable[..., Tray],
) -> None:
    """The daemon stays busy the whole time: the notice comes at the hold, not at idle."""
    fake.status["state"] = "transcribing"
    fake.status["current_job"] = current_job(9, "next.wav", 1.0)
    fake.status["queue"]["queued"] = 5
    tray = start_tray(fake.socket_path)
    tray.wait_menu(lambda m: m[0].label.startswith("Transcribing next.wav"), "busy")
    for i in (1, 2, 3):
        fake.emit("job_done", id=i, file=f"f{i}.wav", outputs=[f"/nowhere/f{i}.txt"])
    note_titled(services, "3 transcripts ready", 20)
    polls_after(fake, 3)
    assert services.summaries() == ["3 transcripts ready"]


def test_broken_pipe_is_not_an_error(fake: FakeDaemon) -> None:
    """`voxtrald status | head -1`: the reader leaves early; no traceback, exit 0."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader has already gone when the answer is printed
    try:
        done = subprocess.run(
            [sys.executable, "-m", "voxtrald", "status", "--socket", str(fake.socket_path)],
            stdout=write_end, stderr=subprocess.PIPE, timeout=60)
    finally:
        os.close(write_end)
    err = done.stderr.decode()
    assert fake.count("GET", "/api/status") == 1  # it did ask, and had an answer to print
    assert done.returncode == 0 and "Traceback" not in err and "BrokenPipe" not in err, err


def test_start_voxtral_from_the_tray_and_it_outlives_the_tray(
    services: DesktopServices, start_tray: Callable[..., Tray], tmp_path: Path,
) -> None:
    """No service installed: the tray starts `voxtrald run` detached, opens its log, and
    quitting the tray leaves the daemon running."""
    import signal

    from tests.conftest import write_toml
    from voxtrald.client.connection import Client, DaemonUnreachable

    root = tmp_path / "voxtral"
    folders = {k: str(root / k.capitalize()) for k in ("inbox", "transcripts", "processed",
                                                          "failed")}
    for folder in folders.values():
        Path(folder).mkdir(parents=True)
    extra = tmp_path / "extra.toml"
    write_toml(extra, {"paths": {**folders, "state_dir": str(root / "state")},
                       "engine": {"model": "tiny.en", "threads": 1},
                       "updates": {"check_interval_hours": 0}})
    socket = tmp_path / "run" / "voxtrald.sock"
    tray = start_tray(socket, config_extra=extra.read_text())
    items = tray.wait_menu(lambda m: m[0].label == "Voxtral is not running", "the offline menu")
    assert next(i for i in items if i.label == "Open inbox folder").enabled
    tray.click("Open inbox folder")  # the configured folder, though the daemon is away
    wait_for(tray.opened, 10, "the inbox to open")
    assert tray.opened() == [folders["inbox"]]

    tray.click("Start Voxtral")
    pid = 0
    try:
        tray.wait_menu(lambda m: m[0].label == "Idle", "the daemon the tray started")
        pid = int(wait_for(lambda: _started_pid(tray.output()), 10, "the daemon's pid"))
        # The tray started it, so it can stop it; then start it again.
        tray.click("Stop Voxtral")
        tray.wait_menu(lambda m: m[0].label == "Voxtral is not running", "the daemon stopped")
        wait_for(lambda: not _alive(pid), 30, "the daemon process to end")
        tray.click("Start Voxtral")
        tray.wait_menu(lambda m: m[0].label == "Idle", "the daemon started again")
        pid = int(wait_for(lambda: (p := _started_pid(tray.output())) and int(p) != pid and p,
                           10, "the new daemon's pid"))
        tray.click("Open daemon log")
        wait_for(lambda: len(tray.opened()) == 2, 10, "the daemon log to open")
        daemon_log = Path(tray.opened()[1])
        assert daemon_log.name == "voxtrald.log" and daemon_log.is_relative_to(tmp_path)
        assert "voxtrald" in daemon_log.read_text()

        tray.click("Quit", rebuilt=False)
        assert tray.proc.wait(15) == 0
        status, _ = Client(socket, timeout=5).request("GET", "/api/health")
        assert status == 200  # still running without the tray
    finally:
        if pid:
            os.kill(pid, signal.SIGTERM)
            wait_for(lambda: not _answers(socket, Client, DaemonUnreachable), 30,
                     "the daemon to stop")


def _started_pid(output: str) -> str | None:
    import re

    found = re.findall(r"started voxtrald \(pid (\d+)\)", output)
    return found[-1] if found else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by the tray) has stopped as far as we care.
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(")")[-1].split()[0] == "Z")


def _answers(socket: Path, client: type, unreachable: type[Exception]) -> bool:
    try:
        client(socket, timeout=2).request("GET", "/api/health")
    except unreachable:
        return False
    return True


def test_copy_text_about_and_a_retry_that_cannot_help(
    fake: FakeDaemon, services: DesktopServices, start_tray: Callable[..., Tray],
    tmp_path: Path,
) -> None:
    # A stand-in clipboard tool (first on PATH, as xclip would be) that keeps what it got.
    copied = tmp_path / "clipboard.txt"
    tool = tmp_path / "bin" / "xclip"
    tool.parent.mkdir(parents=True, exist_ok=True)
    tool.write_text(f'#!/bin/sh\ncat > "{copied}"\n')
    tool.chmod(0o755)
    transcripts = tmp_path / "transcripts"
    transcripts.mkdir()
    (transcripts / "a.txt").write_text("First line.\nSecond line.\n")
    failed_dir = tmp_path / "failed"
    failed_dir.mkdir()
    broken = failed_dir / "broken.wav"
    broken.write_bytes(b"this is not audio")
    from voxtrald.files import hashing

    fake.jobs = [job(2, "failed", "broken.wav", error="not audio", attempts=1,
                     max_attempts=3, source_path=str(broken),
                     sha256=hashing.sha256_of(broken))]
    fake.status["update"] = update_summary(None, None, available=False)
    fake.checked_at = "2026-05-01T10:00:00Z"
    tray = start_tray(fake.socket_path)
    tray.wait_menu(lambda m: m[0].label == "Idle", "the tray to see the daemon")

    fake.emit("job_done", id=1, file="a.wav", outputs=[str(transcripts / "a.txt")])
    ready = note_titled(services, "Transcript ready: a.wav")
    assert drawn_buttons(ready) == ["Open transcript", "Copy text", "Open folder"]
    services.invoke(ready, "copy_text")
    wait_for(lambda: copied.exists() and copied.read_text(), 10, "the text on the clipboard")
    assert copied.read_text() == "First line.\nSecond line.\n"

    tray.click("About Voxtral")
    about = note_titled(services, "About Voxtral")
    assert about.body.startswith("Voxtral 1.0.0.") and "2026-05-01 10:00:00 UTC" in about.body

    fake.emit("job_failed", id=2, file="broken.wav", error="not audio", final=True)
    failed = note_titled(services, "Transcription failed")
    services.invoke(failed, "retry")
    replace_first = note_titled(services, "Replace broken.wav first")
    assert drawn_buttons(replace_first) == ["Open Failed folder"]
    assert fake.count("POST", "/api/jobs/2/retry") == 0
    # Once a good copy is in place, Retry asks the daemon.
    broken.write_bytes(b"a different file")
    services.invoke(failed, "retry")
    wait_for(lambda: fake.count("POST", "/api/jobs/2/retry") == 1, 10, "the retry request")


def test_transcribe_a_file_through_the_desktop_portal(
    fake: FakeDaemon, services: DesktopServices, start_tray: Callable[..., Tray],
    tmp_path: Path,
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "talk.wav").write_bytes(b"already here")
    chosen = tmp_path / "elsewhere" / "talk.wav"
    chosen.parent.mkdir()
    chosen.write_bytes(b"RIFF recording")
    secret = tmp_path / "elsewhere" / "secret.wav"
    secret.write_bytes(b"not yours")
    secret.chmod(0)
    root = os.geteuid() == 0  # root reads everything: a file gone meanwhile instead
    if root:
        secret.unlink()
    services.serve_portal([chosen.as_uri(), "https://example.invalid/x.wav"])
    tray = start_tray(fake.socket_path)
    tray.wait_menu(lambda m: m[0].label == "Idle", "the tray to see the daemon")
    tray.click("Transcribe a file…")
    wait_for(lambda: (inbox / "talk (2).wav").exists(), 10, "the copy in the inbox")
    assert (inbox / "talk (2).wav").read_bytes() == b"RIFF recording"
    assert (inbox / "talk.wav").read_bytes() == b"already here"  # never replaced
    assert chosen.exists() and services.portal_calls == ["Transcribe with Voxtral"]
    assert not [p for p in inbox.iterdir() if p.name.startswith(".")]
    assert "not a local file" in tray.output()

    # A file this user may not read: a clear notice, nothing copied.
    services.serve_portal([secret.as_uri()])
    tray.click("Transcribe a file…")
    refused = note_titled(services, "Cannot transcribe secret.wav")
    why = "It does not exist (any more)" if root else "You may not read it"
    assert refused.body == f"{why}. Nothing was changed."
    assert sorted(p.name for p in inbox.iterdir()) == ["talk (2).wav", "talk.wav"]
    # Cancelled: nothing happens.
    services.serve_portal(None)
    tray.click("Transcribe a file…")
    wait_for(lambda: len(services.portal_calls) == 3, 10, "the third chooser")
    polls_after(fake, 2)
    assert sorted(p.name for p in inbox.iterdir()) == ["talk (2).wav", "talk.wav"]


def test_no_portal_no_file_chooser_item(
    fake: FakeDaemon, services: DesktopServices, start_tray: Callable[..., Tray],
) -> None:
    tray = start_tray(fake.socket_path)
    items = tray.wait_menu(lambda m: m[0].label == "Idle", "the tray to see the daemon")
    assert not any(i.label.startswith("Transcribe a file") for i in items)


def test_queue_view_and_recent_stay_bounded_with_500_jobs_each(
    fake: FakeDaemon, services: DesktopServices, start_tray: Callable[..., Tray],
    tmp_path: Path,
) -> None:
    transcripts = tmp_path / "transcripts"
    transcripts.mkdir()
    for i in range(1, 501):
        (transcripts / f"d{i}.txt").write_text("words\n")
    fake.jobs = [job(i, "done", f"d{i}.wav", outputs=[str(transcripts / f"d{i}.txt")])
                 for i in range(1, 501)]
    fake.jobs += [job(1000 + i, "queued", f"q{i}.wav") for i in range(1, 501)]
    fake.status["queue"].update(done=500, queued=500)
    fake.status["state"] = "transcribing"
    fake.status["current_job"] = current_job(999, "now.wav", 3.0)
    tray = start_tray(fake.socket_path)
    items = tray.wait_menu(lambda m: any(i.label == "q1.wav" for i in m), "the queue view")
    queue = next(i for i in items if i.label == "Queue: 500 waiting")
    shown = [i.label for i in items if i.parent == queue.id]
    assert shown == ["Now: now.wav", *[f"q{i}.wav" for i in range(1, 11)], "and 490 more"]
    recent = next(i for i in items if i.label == "Recent transcripts")
    assert [i.label for i in items if i.parent == recent.id] == [
        f"d{i}.wav" for i in range(500, 495, -1)]


def test_a_long_name_with_control_characters_in_a_notice(
    fake: FakeDaemon, services: DesktopServices, start_tray: Callable[..., Tray],
) -> None:
    evil = "a\x1b]0;pwned\x07" + "é" * 100 + "\n\r" + "x" * 40 + ".wav"
    assert len(evil.encode()) >= 250
    tray = start_tray(fake.socket_path)
    tray.wait_menu(lambda m: m[0].label == "Idle", "the tray to see the daemon")
    fake.emit("job_failed", id=5, file=evil, error="bad\x1b[31m data", final=True)
    services.wait_for(lambda: services.summaries(), 15, "the failure notice")
    note = services.notes()[-1]
    shown = note.summary + note.body
    assert not any(ord(c) < 32 or ord(c) == 127 for c in shown), repr(shown)
    assert "x" * 40 + ".wav" in note.body and tray.proc.poll() is None


def test_notification_server_dies_and_comes_back(
    fake: FakeDaemon, desktop: Any, services: DesktopServices,
    start_tray: Callable[..., Tray],
) -> None:
    tray = start_tray(fake.socket_path)
    tray.wait_menu(lambda m: m[0].label == "Idle", "the tray to see the daemon")
    services.drop_notifications(desktop.bus_address)
    fake.set_memory("warning", 85.0)
    wait_for(lambda: "notification not shown" in tray.output(), 15, "the failure logged")
    services.reset()  # the server is back
    fake.set_memory("critical", 95.0)
    note = note_titled(services, "Memory critical")
    assert drawn_buttons(note) == ["Pause transcription"]
    assert tray.proc.poll() is None and "Traceback" not in tray.output()
