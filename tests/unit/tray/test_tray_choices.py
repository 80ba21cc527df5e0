"""The tray's newer decisions, as tables: batches of finished jobs, the buttons each
notification offers, the Notifications switches, Recent transcripts, and titles the
X11 backend can write. Pure functions only; the desktop tests show them for real."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from tray import desktop, iconfile, notices, notifier, statefile, view
from tray.model import EventBatch, Finished, Status, recent_from_jobs
from tray.notices import Command
from tray.notifier import BATCH_MAX_HOLD, BATCH_QUIET, Settings, TrayState
from tray.prefs import NotifyPrefs
from voxtrald import bodies
from voxtrald.client.read import read

S = Settings()
FOLDERS = {"transcripts": "/t", "failed": "/f", "inbox": "/i"}


def status(seq: int, job: bool = False, queued: int = 0, paused: bool = False) -> Status:
    return Status.parse({
        "instance": "i", "events_last_seq": seq, "paused": paused, "folders": FOLDERS,
        "queue": {"queued": queued},
        "current_job": {"id": 9, "file": "x.wav", "percent": 10} if job else None,
    })


def done(seq: int, job_id: int, file: str, folder: str = "/t") -> dict[str, Any]:
    stem = file.rsplit(".", 1)[0]
    outputs = [f"{folder}/{stem}.srt", f"{folder}/{stem}.txt"]
    return {"seq": seq, "type": "job_done", "data": {"id": job_id, "file": file,
                                                      "outputs": outputs}}


def events(*evs: dict[str, Any]) -> EventBatch:
    return EventBatch.parse({"events": list(evs), "last_seq": evs[-1]["seq"], "instance": "i"})


def start(prefs: NotifyPrefs | None = None) -> TrayState:
    state, _ = notifier.on_status(TrayState(prefs=prefs or NotifyPrefs()), status(0), S)
    return state


def test_one_finished_job_gets_its_own_notice_once_the_daemon_is_idle() -> None:
    state = start()
    state, notes = notifier.on_events(state, events(done(1, 1, "jfk.flac")), S, now=10.0)
    assert notes == []
    # Not yet: no status read since, so another job may already be running.
    assert notifier.on_tick(state, 10.0 + BATCH_QUIET)[1] == []
    state, _ = notifier.on_status(state, status(1), S)
    assert notifier.on_tick(state, 10.0 + BATCH_QUIET - 0.1)[1] == []
    state, notes = notifier.on_tick(state, 10.0 + BATCH_QUIET)
    assert len(notes) == 1
    note = notes[0]
    assert (note.title, note.message) == ("Transcript ready: jfk.flac", "Saved in /t")
    assert [(a.key, a.label, a.command) for a in note.actions] == [
        ("open_transcript", "Open transcript", Command("open_file", "/t/jfk.txt")),
        ("open_folder", "Open folder", Command("open_folder", "/t")),
    ]
    assert state.finished == () and notifier.on_tick(state, 99.0)[1] == []


def test_files_finishing_together_share_one_notice_within_the_hold() -> None:
    """Files dropped together: the first notice comes BATCH_MAX_HOLD after the first one
    finished (within 15 s) and covers every file that finished meanwhile."""
    assert BATCH_MAX_HOLD <= 15 - 2  # a status poll's margin
    state = start()
    notes: list[notices.Notification] = []
    for i in range(1, 4):
        state, _ = notifier.on_events(state, events(done(i, i, f"f{i}.wav")), S, now=i * 4.0)
        state, _ = notifier.on_status(state, status(i, job=True, queued=5), S)
        state, notes = notifier.on_tick(state, i * 4.0 + BATCH_QUIET + 0.5)
        assert notes == [], i
    state, notes = notifier.on_tick(state, 4.0 + BATCH_MAX_HOLD)
    assert [n.title for n in notes] == ["3 transcripts ready"]
    assert notes[0].message == "f1.wav, f2.wav, f3.wav"
    assert [a.command for a in notes[0].actions] == [
        Command("open_file", "/t/f3.txt"), Command("open_folder", "/t")]


def test_a_long_run_still_reports_every_few_minutes() -> None:
    state = start()
    state, _ = notifier.on_events(state, events(done(1, 1, "a.wav")), S, now=0.0)
    state, _ = notifier.on_status(state, status(1, job=True, queued=50), S)
    assert notifier.on_tick(state, BATCH_MAX_HOLD - 1)[1] == []
    assert [n.title for n in notifier.on_tick(state, BATCH_MAX_HOLD)[1]] == [
        "Transcript ready: a.wav"]


def test_a_paused_queue_does_not_hold_the_batch() -> None:
    state = start()
    state, _ = notifier.on_events(state, events(done(1, 1, "a.wav")), S, now=0.0)
    state, _ = notifier.on_status(state, status(1, queued=3, paused=True), S)
    assert len(notifier.on_tick(state, BATCH_QUIET)[1]) == 1


def test_transcripts_in_several_folders_open_the_transcripts_folder() -> None:
    state = start()
    state, _ = notifier.on_events(
        state, events(done(1, 1, "a.wav", "/t/x"), done(2, 2, "b.wav", "/t/y")), S, now=0.0)
    state, _ = notifier.on_status(state, status(2), S)
    (note,) = notifier.on_tick(state, BATCH_QUIET)[1]
    assert note.actions[-1].command == Command("open_folder", "/t")


@pytest.mark.parametrize(
    ("switch", "kind_silenced"),
    [("memory", "memory"), ("updates", "update"), ("job_done", "job_done"),
     ("job_failed", "job_failed")],
)
def test_each_switch_silences_its_kind_only(switch: str, kind_silenced: str) -> None:
    state = notifier.on_toggle(start(), switch)
    assert getattr(state.prefs, switch) is False
    evs = [
        {"seq": 1, "type": "memory_warning", "data": {"level": "warning", "percent": 85}},
        {"seq": 2, "type": "update_available", "data": {"version": "9.0.0"}},
        {"seq": 3, "type": "job_failed", "data": {"id": 3, "file": "b.wav", "final": True}},
        done(4, 4, "a.wav"),
    ]
    state, notes = notifier.on_events(state, events(*evs), S, now=0.0)
    state, _ = notifier.on_status(state, status(4), S)
    state, more = notifier.on_tick(state, BATCH_QUIET)
    kinds = sorted(n.kind for n in notes + more)
    expected = sorted({"memory", "update", "job_failed", "job_done"} - {kind_silenced})
    assert kinds == expected
    if kind_silenced == "update":
        assert "9.0.0" not in state.announced_versions  # switching back on still tells
    # Recent transcripts are kept whatever the switches say.
    assert [r.file for r in state.recent] == ["a.wav"]
    assert notifier.on_toggle(state, switch).prefs == NotifyPrefs()


def test_switching_finished_jobs_off_drops_a_waiting_batch() -> None:
    state, _ = notifier.on_events(start(), events(done(1, 1, "a.wav")), S, now=0.0)
    state = notifier.on_toggle(state, "job_done")
    state, _ = notifier.on_status(state, status(1), S)
    assert notifier.on_tick(state, 100.0)[1] == []


def test_memory_notice_offers_pause_unless_paused() -> None:
    mem_event = {"seq": 1, "type": "memory_critical", "data": {"level": "critical"}}
    _, notes = notifier.on_events(start(), events(mem_event), S)
    assert [(a.key, a.command) for a in notes[0].actions] == [("pause", Command("pause", "memory"))]
    paused, _ = notifier.on_status(TrayState(), status(0, paused=True), S)
    _, notes = notifier.on_events(paused, events(mem_event), S)
    assert notes[0].actions == ()


@pytest.mark.parametrize(
    ("url", "keys"),
    [("https://example.invalid/r", ["open_release", "skip_version"]),
     ("javascript:x", ["skip_version"]), (None, ["skip_version"])],
)
def test_update_notice_buttons(url: str | None, keys: list[str]) -> None:
    note = notices.update_notice("1.2.0", url)
    assert [a.key for a in note.actions] == keys
    assert note.actions[-1].command == Command("skip_version", "1.2.0")


def test_names_with_control_characters_are_shown_escaped() -> None:
    note = notices.failed_notice(4, "a\x1b[31m\nb.wav", "bad\rthing")
    assert note.message == "a\\x1b[31m\\nb.wav: bad\\rthing"
    state, _ = notifier.on_events(start(), events(done(1, 1, "x\ny.wav")), S, now=0.0)
    state, _ = notifier.on_status(state, status(1), S)
    assert notifier.on_tick(state, 9.0)[1][0].title == "Transcript ready: x\\ny.wav"


def test_recent_transcripts_newest_first_at_most_five() -> None:
    jobs = {"jobs": [
        {"id": i, "state": "done", "file": f"f{i}.wav",
         "outputs": [f"/t/f{i}.json", f"/t/f{i}.txt"]}
        for i in range(1, 9)
    ] + [{"id": 20, "state": "failed", "file": "bad.wav", "outputs": []},
         {"id": 21, "state": "done", "file": "none.wav", "outputs": []}, "junk"]}
    items = recent_from_jobs(read(bodies.JobList, jobs), 5)
    assert [(r.job_id, r.transcript) for r in items] == [
        (8, "/t/f8.txt"), (7, "/t/f7.txt"), (6, "/t/f6.txt"), (5, "/t/f5.txt"), (4, "/t/f4.txt")]
    assert recent_from_jobs(read(bodies.JobList, "garbage"), 5) == ()
    state = notifier.on_recent(start(), items)
    menu = view.flatten(view.menu(state))
    assert [menu[k].text for k in view.RECENT_KEYS] == [f"f{i}.wav" for i in (8, 7, 6, 5, 4)]
    assert menu["recent_0"].command == Command("open_file", "/t/f8.txt")
    assert not menu["recent_none"].visible
    # A job finishing moves to the top, without waiting for the daemon's list.
    state, _ = notifier.on_events(state, events(done(1, 9, "new.wav")), S, now=0.0)
    assert [r.file for r in state.recent] == ["new.wav", "f8.wav", "f7.wav", "f6.wav", "f5.wav"]


def test_notifications_submenu_shows_the_switches() -> None:
    state = notifier.on_toggle(start(), "updates")
    sub = next(e for e in view.menu(state) if e.key == "notifications")
    assert [(c.text, c.checked) for c in sub.children] == [
        ("Memory warnings", True), ("New versions", False),
        ("Finished transcriptions", True), ("Failed transcriptions", True)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Voxtral daemon stopped — reconnecting…", "Voxtral daemon stopped - reconnecting..."),
        ("Transcribing café.wav — 42 % · RAM 83 %", "Transcribing café.wav - 42 % · RAM 83 %"),
        ("Transcribing 会議.m4a", "Transcribing ??.m4a"),
        ("Transcribing Łódź.wav", "Transcribing ?ódz.wav"),
        ("a\x1bb", "a?b"),
    ],
)
def test_x11_titles_are_latin1(text: str, expected: str) -> None:
    title = view.latin1_title(text)
    assert title == expected
    title.encode("latin-1")


def test_prefs_survive_a_restart_and_bad_entries_keep_defaults(tmp_path: Path) -> None:
    path = tmp_path / "tray.json"
    assert statefile.load_prefs(path, NotifyPrefs(job_failed=False)) == NotifyPrefs(
        job_failed=False)
    assert statefile.save(path, frozenset({"1.1.0"}), NotifyPrefs(job_done=False))
    assert statefile.load_prefs(path, NotifyPrefs()) == NotifyPrefs(job_done=False)
    assert statefile.load_announced(path) == {"1.1.0"}
    path.write_text(json.dumps({"notifications": {"memory": "no", "job_done": False, "x": 1}}))
    assert statefile.load_prefs(path, NotifyPrefs()) == NotifyPrefs(job_done=False)


def test_only_existing_local_folders_and_files_are_opened(tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_text("x")
    assert desktop.local_path(str(tmp_path), want_dir=True) == str(tmp_path)
    assert desktop.local_path(str(tmp_path / "f.txt"), want_dir=False) == str(tmp_path / "f.txt")
    for bad in ("https://evil.example/x", "file:///etc", "relative/dir", str(tmp_path / "nope"),
                str(tmp_path / "f.txt"), "", None, 7, "/tmp/\0x"):
        assert desktop.local_path(bad, want_dir=True) is None, bad
    assert desktop.local_path(str(tmp_path), want_dir=False) is None
    assert not desktop.open_folder(str(tmp_path / "invented"))
    assert not (tmp_path / "invented").exists()  # never created to be opened


def test_notification_icon_is_private_written_by_rename_and_cleaned(tmp_path: Path) -> None:
    from PIL import Image

    folder = tmp_path / "cache" / "tray"
    folder.mkdir(parents=True, mode=0o755)
    (folder / "left-by-a-killed-tray.png").write_bytes(b"old")
    victim = tmp_path / "victim"
    victim.write_text("precious")
    (folder / iconfile.FILE_NAME).symlink_to(victim)
    path = iconfile.write(Image.new("RGBA", (8, 8)), folder)
    assert path == folder / iconfile.FILE_NAME
    assert victim.read_text() == "precious" and not path.is_symlink()
    assert path.read_bytes().startswith(b"\x89PNG")
    assert sorted(os.listdir(folder)) == [iconfile.FILE_NAME]
    assert os.stat(folder).st_mode & 0o777 == 0o700 and os.stat(path).st_mode & 0o777 == 0o600
    # A folder that is a link (planted by someone) is not used.
    other = tmp_path / "linked"
    other.symlink_to(tmp_path / "cache")
    assert iconfile.write(Image.new("RGBA", (8, 8)), other) is None


def test_finished_parse_tolerates_garbage() -> None:
    assert Finished.parse("x") is None
    assert Finished.parse({"id": True, "outputs": "x"}) == Finished(None, "a file", None)
