"""The notifications the tray can raise, with the actions each offers: pure values.

A notification carries its actions as data (a label and a Command), not as
callbacks, so the rules that build them are tested as tables and the same
notification can be shown with buttons where the notification server offers
them and as plain text where it does not. The controller turns a chosen
Command into I/O (tray.actions).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal

from tray.model import Finished, Memory
from voxtrald.schema import MemoryLevel
from voxtrald.textsafe import escape_controls

Verb = Literal[
    "open_file", "open_folder", "retry", "show_error", "open_release", "skip_version", "pause"
]
Kind = Literal["memory", "update", "job_done", "job_failed"]
# How many names a summary lists before "and N more".
SUMMARY_NAMES = 3


@dataclass(frozen=True)
class Command:
    """Something the user can ask for from a notification or the menu."""

    verb: Verb
    arg: str | int | None = None


@dataclass(frozen=True)
class Action:
    key: str  # the action's id on the notification server, stable per kind
    label: str
    command: Command


@dataclass(frozen=True)
class Notification:
    kind: Kind  # at most one of each per input; also the switch in the Notifications menu
    title: str
    message: str
    urgency: str = "normal"  # "low", "normal" or "critical", as in the freedesktop spec
    actions: tuple[Action, ...] = ()


def name(text: str) -> str:
    """A file name from the daemon, safe to show (no control characters)."""
    return escape_controls(text)


def _gb(value: float | None) -> str:
    return f"{value:.1f} GB" if value is not None else "? GB"


def memory_notice(mem: Memory, reminder: bool, paused: bool) -> Notification:
    pct = f"{mem.percent:.0f} %" if mem.percent is not None else "high"
    if mem.level == MemoryLevel.CRITICAL:
        title = "Memory still critical" if reminder else "Memory critical"
        urgency = "critical"
    else:
        title, urgency = "Memory warning", "normal"
    detail = f"RAM in use: {pct}, {_gb(mem.available_gb)} available."
    text = f"{mem.message} {detail}".strip() if mem.message else detail
    if not mem.message:
        text += " Close other applications or pause transcription."
    actions = () if paused else (Action("pause", "Pause transcription", Command("pause")),)
    return Notification("memory", title, text, urgency, actions)


def back_to_normal_notice(mem: Memory) -> Notification:
    pct = f"{mem.percent:.0f} %" if mem.percent is not None else "normal"
    return Notification("memory", "Memory back to normal", f"RAM in use: {pct}.", "low")


def update_notice(version: str, release_url: str | None) -> Notification:
    actions = []
    if release_url and release_url.lower().startswith("https://"):
        actions.append(Action("open_release", "Open release page",
                              Command("open_release", release_url)))
    actions.append(Action("skip_version", "Skip this version", Command("skip_version", version)))
    return Notification(
        "update",
        f"Voxtral {version} is available",
        "See the release page, or skip this version.",
        actions=tuple(actions),
    )


def _common_folder(paths: list[str]) -> str | None:
    folders = {os.path.dirname(p) for p in paths}
    return folders.pop() if len(folders) == 1 else None


def finished_notice(items: tuple[Finished, ...], transcripts_folder: str | None) -> Notification:
    """One notice for a batch: "Transcript ready: NAME", or "12 transcripts ready"."""
    written = [i.transcript for i in items if i.transcript]
    folder = _common_folder(written) or transcripts_folder
    actions: list[Action] = []
    latest = written[-1] if written else None
    if len(items) == 1:
        item = items[0]
        title = f"Transcript ready: {name(item.file)}"
        message = f"Saved in {name(folder)}" if folder else "Transcribed."
        if latest:
            actions.append(Action("open_transcript", "Open transcript",
                                  Command("open_file", latest)))
    else:
        title = f"{len(items)} transcripts ready"
        shown = [name(i.file) for i in items[-SUMMARY_NAMES:]]
        more = len(items) - len(shown)
        message = ", ".join(shown) + (f" and {more} more" if more else "")
        if latest:
            actions.append(Action("open_transcript", "Open latest transcript",
                                  Command("open_file", latest)))
    if folder:
        actions.append(Action("open_folder", "Open folder", Command("open_folder", folder)))
    return Notification("job_done", title, message, "low", tuple(actions))


def failed_notice(job_id: int | None, file: str, error: str) -> Notification:
    message = f"{name(file)}: {name(error)}" if error else f"{name(file)} could not be transcribed."
    actions: tuple[Action, ...] = ()
    if job_id is not None:
        actions = (
            Action("show_error", "Show error", Command("show_error", job_id)),
            Action("retry", "Retry", Command("retry", job_id)),
        )
    return Notification("job_failed", "Transcription failed", message, actions=actions)


def failed_summary(count: int, failed_folder: str | None) -> Notification:
    actions: tuple[Action, ...] = ()
    if failed_folder:
        actions = (Action("open_folder", "Open folder", Command("open_folder", failed_folder)),)
    return Notification(
        "job_failed",
        f"{count} transcriptions failed",
        "The files were moved to the Failed folder, each with a note saying why.",
        actions=actions,
    )
