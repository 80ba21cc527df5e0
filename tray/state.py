"""The tray's memory of the daemon and of the user: one frozen value, replaced at each input.

Kept apart from the rules that change it (tray.notifier), so the view and the
controller read it without importing the rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tray.installing import InstallState
from tray.model import Finished, Memory, Queued, Status
from tray.prefs import NotifyPrefs
from voxtrald.states import MemoryLevel

RECENT = 5
QUEUE_SHOWN = 10  # files the queue view lists before "and N more"


@dataclass(frozen=True)
class Settings:
    notify_back_to_normal: bool = False
    can_copy: bool = False  # a clipboard tool is here: ready notices offer "Copy text"
    can_choose: bool = False  # a file chooser is here (the desktop portal)


@dataclass(frozen=True)
class TrayState:
    online: bool = False
    ever_online: bool = False
    offline_reason: str = ""
    status: Status | None = None
    instance: str | None = None
    # Last event sequence number handled; None until synced with a status.
    last_seq: int | None = None
    memory: Memory | None = None
    memory_level: MemoryLevel = MemoryLevel.NORMAL
    # Sequence stamp of the memory reading, so an older status cannot undo a newer event.
    memory_seq: int = -1
    memory_silenced: bool = False
    announced_versions: frozenset[str] = frozenset()
    dismissed_versions: frozenset[str] = frozenset()
    prefs: NotifyPrefs = NotifyPrefs()
    # Finished jobs not announced yet, when the first and the last came (monotonic), and
    # whether a status read since the last one tells if the daemon has more to do.
    finished: tuple[Finished, ...] = ()
    finished_first: float = 0.0
    finished_last: float = 0.0
    status_since_finished: bool = False
    recent: tuple[Finished, ...] = ()  # newest first, at most RECENT
    queue: tuple[Queued, ...] = ()  # the next files to run, at most QUEUE_SHOWN
    install: InstallState = InstallState()
    # A daemon instance was just met: its event history may hold the outcome of an install
    # (a restarted daemon tells it before the tray is back in touch).
    history_wanted: bool = False
    # The folders of the config file: what "Open inbox folder" opens while the daemon is away.
    local_folders: dict[str, str] = field(default_factory=dict)
    starting: bool = False  # the tray asked for the daemon to start and waits for it
    can_stop: bool = False  # the tray started the daemon, or a service manager runs it
    daemon_log: bool = False  # "Open log" shows the daemon's log (the tray started it)
    # Failures the user has seen (the menu opened, the folder opened): the badge counts past it.
    failed_seen: int = 0
    # The running job's ETA as last given, and when (monotonic), to count down in between.
    eta_given: float | None = None
    eta_at: float = 0.0
    # The user paused from a memory notice: when memory is normal again, say so and offer
    # Resume, even with "back to normal" notices off, so a pause does not last for ever.
    paused_for_memory: bool = False

    def eta_left(self, now: float | None) -> float | None:
        """The ETA counted down since the daemon gave it (now None: as given)."""
        if self.eta_given is None:
            return None
        if now is None:
            return self.eta_given
        return max(1.0, self.eta_given - max(0.0, now - self.eta_at))

    def update_offer(self) -> tuple[str, str | None] | None:
        """(version, release_url) of an available release the user has not skipped."""
        upd = self.status.update if self.status else None
        if not upd or not upd.available or not upd.latest_version:
            return None
        if upd.dismissed or upd.latest_version in self.dismissed_versions:
            return None
        return upd.latest_version, upd.release_url

    def install_offer(self) -> str | None:
        """The offered version when this daemon can install it itself and none is running."""
        offer = self.update_offer()
        upd = self.status.update if self.status else None
        if offer is None or upd is None or not upd.can_apply or self.install.applying:
            return None
        return offer[0]
