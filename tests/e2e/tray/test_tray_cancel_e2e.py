# ruff: noqa: F811 - pytest fixtures imported from traybus.fixtures are parameters here
"""Cancel from the tray's queue view, through the real tray on the private desktop.

Against the real daemon: a queued file cancelled from its menu entry is cancelled
over the API, its source untouched, and the notice's *Transcribe anyway* queues it
again. Against the stand-in daemon: 500 waiting files keep the view bounded with a
Cancel under each file shown, the running file can be cancelled, and a file that
ended meanwhile is said to be past cancelling.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.conftest import DATA, DaemonProc
from tests.support.traybus.bus_services import DesktopServices, Notify
from tests.support.traybus.dbusmenu import MenuItem
from tests.support.traybus.fake_daemon import FakeDaemon, current_job, job
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


def variant(tmp_path: Path, n: int) -> Path:
    """fox.wav with its last sample byte changed: the same words, audio not seen yet."""
    data = bytearray((DATA / "fox.wav").read_bytes())
    data[-1] = n % 256
    out = tmp_path / f"speech-{n}.wav"
    out.write_bytes(bytes(data))
    return out


def note_titled(services: DesktopServices, title: str, timeout: float = 30) -> Notify:
    services.wait_for(lambda: title in services.summaries(), timeout, f"a {title!r} notice")
    return services.by_summary(title)


def under(items: list[MenuItem], parent: MenuItem) -> list[MenuItem]:
    return [i for i in items if i.parent == parent.id]


def cancel_entry(tray: Tray, label: str) -> MenuItem:
    """The Cancel entry of a file of the queue view, found as a panel shows it."""
    items = tray.menu()
    queue = next(i for i in items if i.label.startswith("Queue:"))
    file = next(i for i in under(items, queue) if i.label == label)
    (cancel,) = under(items, file)
    assert cancel.label == "Cancel" and cancel.enabled
    tray.reader().opened(file.id)
    return cancel


def test_a_queued_file_cancelled_from_the_menu_stays_and_can_be_transcribed_anyway(
    daemon_factory: Callable[..., DaemonProc], services: DesktopServices,
    start_tray: Callable[..., Tray], tmp_path: Path,
) -> None:
    d = daemon_factory()
    d.api("POST", "/api/pause")
    first = d.drop(variant(tmp_path, 1), "first.wav")
    d.drop(variant(tmp_path, 2), "second.wav")
    d.wait_for(lambda: d.status()["queue"]["queued"] == 2, 30, "both files to be queued")
    before = (first.read_bytes(), first.stat().st_mtime_ns)
    tray = start_tray(d.socket)
    tray.wait_menu(lambda m: any(i.label == "first.wav" for i in m), "the queue view")

    tray.reader().click(cancel_entry(tray, "first.wav").id)
    note = note_titled(services, "Cancelled first.wav")
    job = next(j for j in d.jobs() if j["file"] == "first.wav")
    assert job["state"] == "cancelled" and job["finished_at"]
    assert (first.read_bytes(), first.stat().st_mtime_ns) == before
    assert next(j for j in d.jobs() if j["file"] == "second.wav")["state"] == "queued"
    assert note.body == "It is not transcribed, and the file stays where it is."
    assert note.actions == {"retry": "Transcribe anyway"}  # no click on the body undoes it
    items = tray.wait_menu(lambda m: any(i.label == "Queue: 1 waiting" for i in m),
                           "the queue view without it")
    assert not any(i.label == "first.wav" for i in items)

    services.invoke(note, "retry")
    d.wait_for(lambda: d.job(job["id"])["state"] == "queued", 20, "the file queued again")
    tray.wait_menu(lambda m: any(i.label == "first.wav" for i in m), "it back in the queue")
    assert "queued again by request" in d.log()


def test_a_bounded_queue_of_500_has_a_cancel_under_each_file_and_for_the_running_one(
    fake: FakeDaemon, services: DesktopServices, start_tray: Callable[..., Tray],
) -> None:
    fake.jobs = [job(999, "running", "now.wav")]
    fake.jobs += [job(1000 + i, "queued", f"q{i}.wav") for i in range(1, 501)]
    fake.status["queue"].update(queued=500, running=1)
    fake.status["state"] = "transcribing"
    fake.status["current_job"] = current_job(999, "now.wav", 3.0)
    tray = start_tray(fake.socket_path)
    items = tray.wait_menu(lambda m: any(i.label == "q1.wav" for i in m), "the queue view")
    queue = next(i for i in items if i.label == "Queue: 500 waiting")
    files = under(items, queue)
    assert [i.label for i in files] == ["Now: now.wav", *[f"q{i}.wav" for i in range(1, 11)],
                                        "and 490 more"]
    for file in files[:-1]:
        assert [c.label for c in under(items, file)] == ["Cancel"]
    assert under(items, files[-1]) == []
    assert len(items) < 80  # bounded, whatever the queue holds

    # The running file: cancelled, it leaves the view at once (the event, not a poll).
    tray.reader().click(cancel_entry(tray, "Now: now.wav").id)
    note_titled(services, "Cancelled now.wav")
    assert fake.count("POST", "/api/jobs/999/cancel") == 1
    tray.wait_menu(lambda m: not any(i.label.startswith("Now:") for i in m),
                   "the running file to leave the view")

    # A file that ended between the menu and the click: said, nothing else done.
    with fake.cond:
        fake.jobs[1]["state"] = "done"
    tray.reader().click(cancel_entry(tray, "q1.wav").id)
    refused = note_titled(services, "Could not cancel")
    assert refused.body == "Job 1001 is done; only queued or running jobs can be cancelled."
    assert fake.jobs[1]["state"] == "done" and tray.proc.poll() is None
