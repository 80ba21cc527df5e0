"""What bothers a person every day, as pure rules: a menu that is not rebuilt for a
changed figure, each notification button once, damaged files not called a success,
a memory pause that is not forgotten, an ETA that counts down, short memory notices."""

from __future__ import annotations

from typing import Any

from tray import notices, notifier, view
from tray.model import EventBatch, Finished, Status
from tray.notices import Action, Command, Notification
from tray.notifier import BATCH_QUIET, Settings, TrayState
from tray.notify import wire_actions
from voxtrald import bodies
from voxtrald.client.read import read

S = Settings()
FOLDERS = {"transcripts": "/t", "failed": "/f", "inbox": "/i"}


def status(seq: int = 0, **raw: Any) -> Status:
    return Status.parse({"instance": "i", "events_last_seq": seq, "folders": FOLDERS, **raw})


def online(now: float = 0.0, **raw: Any) -> TrayState:
    state, _ = notifier.on_status(TrayState(), status(**raw), S, now)
    return state


def batch(*evs: dict[str, Any]) -> EventBatch:
    return EventBatch.parse({"events": list(evs), "last_seq": evs[-1]["seq"], "instance": "i"})


def test_live_figures_never_change_the_menu() -> None:
    """Percent, ETA and RAM change at every poll; the menu entries must not."""
    menus = set()
    for pct in range(0, 100, 7):
        state = online(
            state="transcribing", queue={"queued": 2},
            current_job={"id": 1, "file": "talk.m4a", "percent": pct, "eta_seconds": 300 - pct},
            memory={"level": "normal", "percent": 40 + pct / 10, "available_gb": 9 - pct / 50},
        )
        menus.add(tuple(view.flatten(view.menu(state)).items()))
        assert f"{pct} %" in view.tooltip(state)
    assert len(menus) == 1


def test_tooltip_names_voxtral_and_counts_failures() -> None:
    state = online(queue={"failed": 3})
    assert view.tooltip(state) == "Voxtral — Idle · 3 failed"
    entries = view.flatten(view.menu(state))
    assert entries["failed"].visible
    assert entries["failed"].text == "3 failed — see the Failed folder"
    assert entries["open_failed"].visible and entries["open_failed"].enabled
    assert view.icon_look(state).failed
    assert not view.icon_look(notifier.on_failures_seen(state)).failed


def test_offline_menu_offers_start_and_the_configured_folders() -> None:
    state = TrayState(local_folders=FOLDERS)
    entries = view.flatten(view.menu(state))
    assert entries["start_daemon"].visible and entries["start_daemon"].text == "Start Voxtral"
    assert entries["open_inbox"].enabled and entries["open_transcripts"].enabled
    assert not entries["pause_resume"].visible
    starting = view.flatten(view.menu(notifier.on_starting(state, True)))
    assert starting["start_daemon"].text == "Starting Voxtral…"
    assert not starting["start_daemon"].enabled
    assert starting["open_log"].text == "Open daemon log"


def test_dismiss_memory_sits_with_the_memory_line() -> None:
    state = online(memory={"level": "warning", "percent": 85, "available_gb": 1})
    keys = [e.key for e in view.menu(state) if e.visible]
    assert keys[:3] == ["status", "memory", "dismiss_memory"]
    assert view.flatten(view.menu(state))["memory"].text == "Memory high — close other applications"


def test_eta_counts_down_between_reports() -> None:
    job = {"id": 1, "file": "a.wav", "percent": 20, "eta_seconds": 300}
    state = online(now=100.0, state="transcribing", current_job=job)
    assert view.job_line(state, 100.0) == "a.wav 20 % · 5 min left"
    # The same report read again 90 s later: the estimate has gone on counting down.
    state, _ = notifier.on_status(state, status(state="transcribing", current_job=job), S, 190.0)
    assert view.job_line(state, 190.0) == "a.wav 20 % · 4 min left"
    assert state.eta_left(250.0) == 150.0
    # A new report restarts the countdown from its figure.
    job2 = {**job, "percent": 50, "eta_seconds": 200}
    state, _ = notifier.on_status(state, status(state="transcribing", current_job=job2), S, 260.0)
    assert state.eta_left(270.0) == 190.0


def test_each_button_once_with_the_body_click_as_the_first() -> None:
    note = notices.finished_notice(
        (Finished(1, "a.wav", "/t/a.txt"),), "/t")
    pairs, commands = wire_actions(note)
    assert pairs == (("default", "Open transcript"), ("open_folder", "Open folder"))
    assert commands["default"] == Command("open_file", "/t/a.txt")
    labels = [label for _key, label in pairs]
    assert len(labels) == len(set(labels))
    # Nothing safe to do by accident: no "default" at all.
    risky = Notification("update", "t", "m", actions=(
        Action("install_update", "Install and restart", Command("install_update", "2"),
               default_ok=False),))
    assert wire_actions(risky)[0] == (("install_update", "Install and restart"),)


def done(seq: int, file: str, **extra: Any) -> dict[str, Any]:
    stem = file.rsplit(".", 1)[0]
    return {"seq": seq, "type": "job_done",
            "data": {"id": seq, "file": file, "outputs": [f"/t/{stem}.txt"], **extra}}


def announce(*evs: dict[str, Any]) -> list[Notification]:
    state = online()
    state, _ = notifier.on_events(state, batch(*evs), S, now=0.0)
    state, _ = notifier.on_status(state, status(len(evs)), S)
    return notifier.on_tick(state, BATCH_QUIET)[1]


def test_damaged_recording_is_not_announced_as_a_success() -> None:
    warning = "decoded 0.1 s of 11.0 s: the file may be truncated"
    (note,) = announce(done(1, "interview.flac", warnings=[warning], empty=True))
    assert note.kind == "job_failed" and note.title == "Nothing transcribed: interview.flac"
    assert note.message.startswith("Decoded 0.1 s of 11.0 s")
    state = online()
    state, _ = notifier.on_events(state, batch(done(1, "x.flac", empty=True)), S, now=0.0)
    assert state.recent == ()


def test_partly_transcribed_file_says_so() -> None:
    (note,) = announce(done(1, "talk.flac", warnings=["stopped reading at a damaged part"]))
    assert note.title == "Partly transcribed: talk.flac"
    assert note.message == "Stopped reading at a damaged part."
    notes = announce(done(1, "a.wav", first_line="Hello there."),
                     done(2, "b.wav", warnings=["2 gaps left unheard"]),
                     done(3, "c.wav", empty=True))
    assert [n.title for n in notes] == ["2 transcripts ready (1 only in part)",
                                        "Nothing transcribed: c.wav"]


def test_ready_notice_quotes_the_first_line() -> None:
    (note,) = announce(done(1, "a.wav", first_line="And so, my fellow Americans"))
    assert note.message == "“And so, my fellow Americans”"


def test_a_pause_from_the_memory_notice_is_not_forgotten() -> None:
    state = online(seq=1, memory={"level": "critical", "percent": 93, "available_gb": 1})
    state = notifier.on_paused_for_memory(state)
    state, _ = notifier.on_status(state, status(2, paused=True, memory={
        "level": "critical", "percent": 93, "available_gb": 1}), S)
    state, notes = notifier.on_status(state, status(3, paused=True, memory={
        "level": "normal", "percent": 50, "available_gb": 8}), S)
    assert [n.title for n in notes] == ["Memory back to normal — transcription still paused"]
    assert [a.command for a in notes[0].actions] == [Command("resume")]
    assert not state.paused_for_memory


def test_memory_notice_gives_figures_once_and_names_each_program_once() -> None:
    message = ("Memory usage is very high (93 % used, 1.5 GB available). Consider pausing "
               "transcription (voxtrald pause) or closing other applications (python3 uses "
               "0.4 GB, python3 uses 0.3 GB, firefox uses 1.0 GB).")
    note = notices.memory_notice(
        notices.Memory(notices.MemoryLevel.CRITICAL, 93.0, 1.5, message), False, False)
    assert note.message == (
        "93 % in use, 1.5 GB free. Memory usage is very high. Consider pausing transcription "
        "or closing other applications (python3 0.7 GB, firefox 1.0 GB).")
    assert note.message.count("%") == 1 and "voxtrald" not in note.message


def test_copy_text_is_offered_only_where_a_clipboard_tool_is() -> None:
    item = (Finished(1, "a.wav", "/t/a.txt"),)
    assert "copy_text" not in [a.key for a in notices.finished_notice(item, "/t").actions]
    with_copy = notices.finished_notice(item, "/t", can_copy=True)
    assert [a.label for a in with_copy.actions] == ["Open transcript", "Copy text", "Open folder"]
    assert with_copy.actions[1].command == Command("copy_text", "/t/a.txt")


def test_no_clipboard_tool_means_none(monkeypatch: Any, tmp_path: Any) -> None:
    from tray import clipboard

    monkeypatch.setenv("PATH", str(tmp_path))
    assert clipboard.available() is None and clipboard.copy("x") is False


def test_about_names_the_version_and_the_last_check() -> None:
    note = notices.about_notice("1.0.0", "1.0.0", "2026-05-01T10:00:00Z", None)
    assert note.title == "About Voxtral"
    assert note.message == ("Voxtral 1.0.0. Local, offline transcription. "
                            "Updates last checked 2026-05-01 10:00:00 UTC.")
    assert "daemon not running" in notices.about_notice(None, "1.0.0", None, None).message


def test_retry_of_an_unchanged_file_that_is_not_audio_is_pointless(tmp_path: Any) -> None:
    from tray.actions import retry_is_pointless
    from voxtrald.files import hashing

    source = tmp_path / "broken.wav"
    source.write_bytes(b"not audio")
    job = read(bodies.Job, {"state": "failed", "attempts": 1, "max_attempts": 3,
                            "source_path": str(source), "sha256": hashing.sha256_of(source)})
    assert retry_is_pointless(job)
    assert not retry_is_pointless({**job, "attempts": 3})  # ran out of attempts: try again
    source.write_bytes(b"a good copy")
    assert not retry_is_pointless(job)


def test_queue_view_is_bounded_and_in_running_order() -> None:
    from tray.model import queue_from_jobs
    from tray.state import QUEUE_SHOWN

    jobs = {"jobs": [{"id": i, "state": "queued", "file": f"f{i}.wav"}
                     for i in range(500, 0, -1)]}
    items = queue_from_jobs(read(bodies.JobList, jobs), QUEUE_SHOWN)
    assert [(i.id, i.file) for i in items] == [(i, f"f{i}.wav")
                                              for i in range(1, QUEUE_SHOWN + 1)]
    state = notifier.on_queue(online(state="transcribing", queue={"queued": 500},
                                     current_job={"id": 0, "file": "now.wav"}), items)
    queue = next(e for e in view.menu(state) if e.key == "queue")
    shown = [c.text for c in queue.children if c.visible]
    assert queue.text == "Queue: 500 waiting"
    assert shown == ["Now: now.wav", *(i.file for i in items), "and 490 more"]


def test_each_file_of_the_queue_view_can_be_cancelled_by_its_job() -> None:
    from tray.model import Queued

    state = notifier.on_queue(online(state="transcribing", queue={"queued": 2},
                                     current_job={"id": 7, "file": "now.wav"}),
                              (Queued(8, "next.wav"), Queued(9, "later.wav")))
    queue = next(e for e in view.menu(state) if e.key == "queue")
    files = [c for c in queue.children if c.visible and c.children]
    assert [f.text for f in files] == ["Now: now.wav", "next.wav", "later.wav"]
    cancels = [f.children[0] for f in files]
    assert all(c.text == "Cancel" and c.enabled for c in cancels)
    assert [c.command for c in cancels] == [
        Command("cancel", 7), Command("cancel", 8), Command("cancel", 9)]
    # Every slot keeps its Cancel entry, shown or not, so the menu's shape never changes.
    flat = view.flatten(view.menu(state))
    assert set(view.CANCEL_KEYS) <= set(flat)
    assert not flat["queue_2_cancel"].enabled and flat["queue_2"].visible is False


def test_the_running_file_can_be_cancelled_with_none_waiting() -> None:
    state = online(state="transcribing", queue={"queued": 0},
                   current_job={"id": 3, "file": "only.wav"})
    queue = next(e for e in view.menu(state) if e.key == "queue")
    assert queue.visible and queue.text == "Queue: none waiting"
    assert view.flatten([queue])["queue_now_cancel"].command == Command("cancel", 3)
    assert not next(e for e in view.menu(online()) if e.key == "queue").visible


def test_a_cancelled_file_is_said_with_the_way_back_never_taken_by_a_click() -> None:
    note = notices.cancelled_notice(5, "talk.wav")
    assert note.title == "Cancelled talk.wav" and note.urgency == "low"
    assert [(a.label, a.command) for a in note.actions] == [
        ("Transcribe anyway", Command("retry", 5))]
    assert notices.default_action(note) is None  # a click on the notice undoes nothing


def test_a_cancel_makes_the_tray_read_the_status_before_its_next_poll() -> None:
    batch = EventBatch.parse({"events": [{"seq": 4, "type": "job_cancelled",
                                          "data": {"id": 2, "file": "a.wav", "was": "queued"}}],
                              "last_seq": 4})
    assert notifier.wants_status_first(batch)
    assert not notifier.wants_status_first(EventBatch.parse({"events": [
        {"seq": 5, "type": "job_started", "data": {}}], "last_seq": 5}))
