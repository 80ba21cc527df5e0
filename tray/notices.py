"""The notifications the tray can raise, with the actions each offers: pure values.

A notification carries its actions as data (a label and a Command), not as
callbacks, so the rules that build them are tested as tables and the same
notification can be shown with buttons where the notification server offers
them and as plain text where it does not. The controller turns a chosen
Command into I/O (tray.actions).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Literal

from tray.model import Finished, Memory
from voxtrald.files.textsafe import escape_controls
from voxtrald.states import MemoryLevel

Verb = Literal[
    "open_file", "open_folder", "retry", "show_error", "open_release", "skip_version", "pause",
    "install_update", "resume", "copy_text", "cancel",
]
# "install": what became of installing an update (not the "New versions" switch's business:
# a version that was put back is news even to someone who wants no offers).
Kind = Literal["memory", "update", "job_done", "job_failed", "install", "about", "cancelled"]
# The reason the daemon records for a rollback asked for with `voxtrald rollback`.
MANUAL_ROLLBACK = "rolled back by hand"
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
    # Whether a click on the notification's body may do this; never for what cannot be
    # undone (installing, skipping a version).
    default_ok: bool = True


@dataclass(frozen=True)
class Notification:
    kind: Kind  # at most one of each per input; also the switch in the Notifications menu
    title: str
    message: str
    urgency: str = "normal"  # "low", "normal" or "critical", as in the freedesktop spec
    actions: tuple[Action, ...] = ()


def default_action(note: Notification) -> Action | None:
    """What a click on the notification's body does: the first action safe to do by
    accident (opening something), never installing or skipping a version."""
    return next((a for a in note.actions if a.default_ok), None)


def name(text: str) -> str:
    """A file name from the daemon, safe to show (no control characters)."""
    return escape_controls(text)


def _gb(value: float | None) -> str:
    return f"{value:.1f} GB" if value is not None else "? GB"


# The daemon's memory message is written for the log and the CLI: its figures (the notice
# gives them once, first), the command to type (the notice has a button) and its list of
# culprits, which may name one program twice.
_FIGURES = re.compile(r"\s*\(\d+ % used[^)]*\)")
_COMMAND = re.compile(r"\s*\(voxtrald \w+\)")
_HOGS = re.compile(r"\(((?:[^()]+? uses [\d.]+ GB)(?:, [^()]+? uses [\d.]+ GB)*)\)")


def _merged_hogs(match: re.Match[str]) -> str:
    totals: dict[str, float] = {}
    for part in match.group(1).split(", "):
        who, _, amount = part.rpartition(" uses ")
        totals[who] = totals.get(who, 0.0) + float(amount.removesuffix(" GB"))
    return "(" + ", ".join(f"{who} {gb:.1f} GB" for who, gb in totals.items()) + ")"


def memory_advice(message: str) -> str:
    """The daemon's memory message without what the notice already shows."""
    text = _COMMAND.sub("", _FIGURES.sub("", name(message)))
    return _HOGS.sub(_merged_hogs, text).strip()


def memory_notice(mem: Memory, reminder: bool, paused: bool) -> Notification:
    pct = f"{mem.percent:.0f} %" if mem.percent is not None else "high"
    if mem.level == MemoryLevel.CRITICAL:
        title = "Memory still critical" if reminder else "Memory critical"
        urgency = "critical"
    else:
        title, urgency = "Memory warning", "normal"
    advice = memory_advice(mem.message) or "Close applications you are not using."
    text = f"{pct} in use, {_gb(mem.available_gb)} free. {advice}"
    actions = () if paused else (
        Action("pause", "Pause transcription", Command("pause", "memory")),)
    return Notification("memory", title, text, urgency, actions)


def status_notice(line: str, transcripts: str | None, online: bool,
                  paused: bool) -> Notification:
    """What the tooltip says, for an icon that cannot show one (the X11 tray): a click
    shows it, with what the menu would offer first."""
    actions = []
    if transcripts:
        actions.append(Action("open_folder", "Open transcripts",
                              Command("open_folder", transcripts)))
    if online:
        actions.append(Action("resume", "Resume", Command("resume")) if paused
                       else Action("pause", "Pause", Command("pause")))
    return Notification("about", "Voxtral", line, "low", tuple(actions))


def back_to_normal_notice(mem: Memory, still_paused: bool = False) -> Notification:
    pct = f"{mem.percent:.0f} %" if mem.percent is not None else "normal"
    if still_paused:
        return Notification(
            "memory", "Memory back to normal — transcription still paused",
            f"RAM in use: {pct}. Files you drop wait until you resume.", "normal",
            (Action("resume", "Resume transcription", Command("resume")),))
    return Notification("memory", "Memory back to normal", f"RAM in use: {pct}.", "low")


def update_notice(version: str, release_url: str | None, can_apply: bool = False) -> Notification:
    """The offer of a release; with *Install and restart* where this install can apply it."""
    actions = []
    if release_url and release_url.lower().startswith("https://"):
        actions.append(Action("open_release", "Open release page",
                              Command("open_release", release_url)))
    if can_apply:
        actions.append(Action("install_update", "Install and restart",
                              Command("install_update", version), default_ok=False))
    actions.append(Action("skip_version", "Skip this version", Command("skip_version", version),
                          default_ok=False))
    message = ("Install it now (Voxtral restarts), see the release page, or skip this version."
               if can_apply else "See the release page, or skip this version.")
    return Notification("update", f"Voxtral {name(version)} is available", message,
                        actions=tuple(actions))


def sentence(text: str) -> str:
    """A reason from the daemon as a sentence of its own (capital, full stop)."""
    return _sentence(text)


def _sentence(text: str) -> str:
    """A reason from the daemon ("the self-check ... failed") as a sentence of its own."""
    text = name(text).strip().rstrip(".")
    return f"{text[:1].upper()}{text[1:]}." if text else ""


def install_refused(version: str, reason: str) -> Notification:
    """The daemon said no to "Install and restart" (busy, not an updatable install, ...)."""
    return Notification("install", f"Could not install Voxtral {name(version)}",
                        _sentence(reason) or "The daemon refused.", "normal")


def install_failed(version: str, message: str) -> Notification:
    """An apply that stopped before the switch: nothing changed, the daemon runs on."""
    text = _sentence(message) or "The update could not be prepared."
    return Notification("install", f"Voxtral {name(version)} was not installed",
                        f"{text} The running version carries on.")


def rolled_back(version: str, restored: str, reason: str) -> Notification:
    version, restored = name(version), name(restored)
    if reason == MANUAL_ROLLBACK:
        return Notification("install", f"Back on Voxtral {restored}",
                            f"Voxtral {version} was rolled back by hand.", "low")
    why = _sentence(reason) or "It did not report healthy."
    return Notification(
        "install",
        f"Voxtral {version} did not start properly; back on {restored}",
        f"{why} Voxtral {version} is not offered again.",
    )


def update_applied(version: str, previous: str) -> Notification:
    text = f"Updated from {name(previous)}." if previous else "Updated."
    return Notification("install", f"Voxtral {name(version)} is running", text, "low")


def _common_folder(paths: list[str]) -> str | None:
    folders = {os.path.dirname(p) for p in paths}
    return folders.pop() if len(folders) == 1 else None


def _first_warning(item: Finished) -> str:
    return _sentence(item.warnings[0]) if item.warnings else ""


def nothing_usable_notice(items: tuple[Finished, ...]) -> Notification:
    """Jobs that ended with an empty transcript: in the failure style, never as a success."""
    if len(items) == 1:
        item = items[0]
        why = _first_warning(item) or "No speech was found."
        return Notification(
            "job_failed", f"Nothing transcribed: {name(item.file)}",
            f"{why} The file may be damaged or silent; replace it and drop it again.",
            actions=(Action("show_error", "Show details", Command("show_error", item.job_id)),)
            if item.job_id is not None else ())
    shown = ", ".join(name(i.file) for i in items[:SUMMARY_NAMES])
    more = len(items) - SUMMARY_NAMES
    return Notification("job_failed", f"Nothing transcribed from {len(items)} files",
                        shown + (f" and {more} more" if more > 0 else "")
                        + ". They may be damaged or silent.")


def finished_notice(items: tuple[Finished, ...], transcripts_folder: str | None,
                    can_copy: bool = False) -> Notification:
    """One notice for a batch: "Transcript ready: NAME", or "12 transcripts ready"; a file
    transcribed only in part (damaged, gaps left unheard) says so in the title."""
    written = [i.transcript for i in items if i.transcript]
    folder = _common_folder(written) or transcripts_folder
    actions: list[Action] = []
    latest = written[-1] if written else None
    partial = [i for i in items if i.partial]
    if len(items) == 1:
        item = items[0]
        if item.partial:
            title = f"Partly transcribed: {name(item.file)}"
            message = _first_warning(item)
        else:
            title = f"Transcript ready: {name(item.file)}"
            line = name(item.first_line).strip()
            message = f"“{line[:120]}”" if line else (
                f"Saved in {name(folder)}" if folder else "Transcribed.")
        if latest:
            actions.append(Action("open_transcript", "Open transcript",
                                  Command("open_file", latest)))
        if latest and latest.endswith(".txt") and can_copy:
            actions.append(Action("copy_text", "Copy text", Command("copy_text", latest)))
    else:
        title = f"{len(items)} transcripts ready"
        if partial:
            title += f" ({len(partial)} only in part)"
        shown = [name(i.file) for i in items[-SUMMARY_NAMES:]]
        more = len(items) - len(shown)
        message = ", ".join(shown) + (f" and {more} more" if more else "")
        if partial:
            message += f". {name(partial[0].file)}: {_first_warning(partial[0])}"
        if latest:
            actions.append(Action("open_transcript", "Open latest transcript",
                                  Command("open_file", latest)))
    if folder:
        actions.append(Action("open_folder", "Open folder", Command("open_folder", folder)))
    return Notification("job_done", title, message, "normal" if partial else "low",
                        tuple(actions))


def failed_notice(job_id: int | None, file: str, error: str) -> Notification:
    message = f"{name(file)}: {name(error)}" if error else f"{name(file)} could not be transcribed."
    actions: tuple[Action, ...] = ()
    if job_id is not None:
        actions = (
            Action("show_error", "Show error", Command("show_error", job_id)),
            Action("retry", "Retry", Command("retry", job_id)),
        )
    return Notification("job_failed", "Transcription failed", message, actions=actions)


def cancelled_notice(job_id: int, file: str) -> Notification:
    """A file cancelled from the queue view, with the way back."""
    return Notification(
        "cancelled", f"Cancelled {name(file)}",
        "It is not transcribed, and the file stays where it is.", "low",
        (Action("retry", "Transcribe anyway", Command("retry", job_id), default_ok=False),))


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


def about_notice(daemon: str | None, tray: str, checked_at: str | None,
                 error: str | None) -> Notification:
    """About Voxtral: the versions running and when updates were last looked for."""
    running = f"Voxtral {name(daemon)}" if daemon else "Voxtral (daemon not running)"
    if daemon and daemon != tray:
        running += f", tray {name(tray)}"
    if checked_at:
        checked = f"Updates last checked {name(checked_at).replace('T', ' ').rstrip('Z')} UTC."
    elif daemon:
        checked = "Updates not checked yet."
    else:
        checked = "Updates are checked by the daemon."
    if error:
        checked += f" The last check failed: {_sentence(error)}"
    return Notification("about", "About Voxtral",
                        f"{running}. Local, offline transcription. {checked}", "low")
