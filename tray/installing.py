"""Installing an update from the tray: what the tray knows of an apply, as pure values.

The daemon does the work (`POST /api/updates/apply`) and restarts into the
new version; the tray only has to show that an install runs (the menu item
is disabled and says so, so a second click cannot start a second one) and
tell, once, what became of it. Its knowledge comes from three places, each
fed in here: its own click (before the daemon has even answered), the
daemon's apply progress (`GET /api/updates/apply`, which also reveals an
apply started from the command line) and the update events.

The outcome events (failed, applied, rolled back) are announced once each,
ever: they are remembered by the daemon instance that emitted them and their
sequence number, a key the tray keeps in its state file. The same event seen
again (the tray restarted and read the daemon's history, or read it both in
the history and the live stream) is recognised; a second rollback of the
same version, in a later daemon, is not the same event and is told.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from tray import notices
from tray.model import ApplyProgress
from tray.notices import Notification

# The events that say what became of an install: the tray looks for them in the history
# of a daemon it has just met too, since a restarted daemon emits them before the tray
# is back in touch.
OUTCOMES = ("update_failed", "update_applied", "update_rolled_back")
RESTARTING = "update_restarting"
# How many announced outcomes to remember; an event older than that cannot come back.
MAX_NEWS = 20
# The tray asked, the daemon has not answered yet.
REQUESTED = "requested"


@dataclass(frozen=True)
class InstallState:
    applying: str | None = None  # the version being installed, as far as the tray knows
    step: str = ""  # REQUESTED, or a step of tray.model.APPLY_STEPS
    news_seen: tuple[str, ...] = ()  # keys of outcome events announced, oldest first

    @property
    def restarting(self) -> bool:
        return self.applying is not None and self.step == "restarting"


def news_key(instance: str | None, seq: int) -> str:
    return f"{instance or '?'}:{seq}"


def requested(state: InstallState, version: str) -> InstallState:
    """The user chose "Install and restart"; ignored while an install already runs."""
    if state.applying is not None:
        return state
    return replace(state, applying=version, step=REQUESTED)


def refused(state: InstallState, version: str, reason: str) -> tuple[InstallState, Notification]:
    """The daemon said no (or could not be asked): nothing runs, the user learns why."""
    return replace(state, applying=None, step=""), notices.install_refused(version, reason)


def started(state: InstallState, progress: ApplyProgress) -> InstallState:
    """The daemon accepted the request (202) with its first step; an answer that names no
    step leaves the progress reads to tell."""
    if state.step not in ("", REQUESTED) and state.applying == progress.version:
        return state  # an event or a progress read came first and knows more
    if progress.running:
        return replace(state, applying=progress.version, step=progress.state)
    return replace(state, applying=None, step="")


def observed(state: InstallState, progress: ApplyProgress) -> InstallState:
    """A read of the daemon's apply progress, whoever started the apply."""
    if progress.running:
        return replace(state, applying=progress.version, step=progress.state)
    if state.step == REQUESTED:
        return state  # a read from before our request was answered says nothing about it
    return replace(state, applying=None, step="")


def restarted(state: InstallState) -> InstallState:
    """Another daemon instance answers: whatever was being applied is over, one way or
    the other; its outcome comes as an event of the new instance."""
    if state.step == REQUESTED:
        return state
    return replace(state, applying=None, step="")


def on_event(
    state: InstallState, key: str, kind: str, data: dict, live: bool = True
) -> tuple[InstallState, list[Notification]]:
    """An update event; `live` False for one read from the history of a daemon just met."""
    version = _text(data.get("version"))
    if kind == RESTARTING:
        if not live or version is None:
            return state, []
        return replace(state, applying=version, step="restarting"), []
    if kind not in OUTCOMES:
        return state, []
    if live and (version is None or state.applying in (None, version)) \
            and state.step != REQUESTED:
        state = replace(state, applying=None, step="")
    if key in state.news_seen or version is None:
        return state, []
    state = replace(state, news_seen=(*state.news_seen, key)[-MAX_NEWS:])
    if kind == "update_failed":
        note = notices.install_failed(version, _text(data.get("message")) or "")
    elif kind == "update_applied":
        note = notices.update_applied(version, _text(data.get("previous")) or "")
    else:
        note = notices.rolled_back(version, _text(data.get("restored")) or "the earlier version",
                                   _text(data.get("reason")) or "")
    return state, [note]


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
