"""Decides when the tray speaks up: the tray's memory, as a pure state machine.

Every input (a status poll, a batch of events, the daemon going away, a menu
choice) is a function from the previous TrayState to the next one plus the
notifications to show. No I/O happens here, so the rules that make the tray
trustworthy are tested directly:

- one notification per memory level escalation, never one for a value
  hovering at a threshold (the daemon's levels carry the hysteresis; the tray
  only reacts to level changes it has not seen yet);
- a critical reminder only when the daemon says it is one;
- nothing on de-escalation unless "back to normal" is asked for;
- "Dismiss memory warnings" silences memory notices until the level is normal;
- one notice per release version ever (the set is persisted by the caller),
  none for a version the user skipped;
- a daemon restart or a burst of events never repeats or multiplies notices.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from packaging.version import InvalidVersion, Version

from tray.model import LEVELS, EventBatch, Memory, Status, level_rank
from voxtrald.schema import MemoryLevel

# How many announced versions to remember; old ones can never come back.
MAX_REMEMBERED_VERSIONS = 20
# The daemon's memory events, one per level: memory_normal, memory_warning, memory_critical.
MEMORY_EVENTS = {f"memory_{level}": level for level in MemoryLevel}


@dataclass(frozen=True)
class Settings:
    notify_job_failed: bool = False
    notify_back_to_normal: bool = False


@dataclass(frozen=True)
class Notification:
    kind: str  # "memory", "update" or "job_failed": at most one of each per input
    title: str
    message: str
    urgency: str = "normal"  # "low", "normal" or "critical", as in the freedesktop spec


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

    def update_offer(self) -> tuple[str, str | None] | None:
        """(version, release_url) of an available release the user has not skipped."""
        upd = self.status.update if self.status else None
        if not upd or not upd.available or not upd.latest_version:
            return None
        if upd.dismissed or upd.latest_version in self.dismissed_versions:
            return None
        return upd.latest_version, upd.release_url


Result = tuple[TrayState, list[Notification]]


def _gb(value: float | None) -> str:
    return f"{value:.1f} GB" if value is not None else "? GB"


def _memory_notice(mem: Memory, reminder: bool) -> Notification:
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
    return Notification("memory", title, text, urgency)


def _observe_memory(
    state: TrayState, mem: Memory, stamp: int, reminder: bool, settings: Settings
) -> Result:
    if stamp < state.memory_seq:
        return state, []
    old, new = level_rank(state.memory_level), level_rank(mem.level)
    silenced = state.memory_silenced
    notes: list[Notification] = []
    if new > old and not silenced:
        notes.append(_memory_notice(mem, reminder=False))
    elif new == old and new == MemoryLevel.CRITICAL.rank and reminder and not silenced:
        notes.append(_memory_notice(mem, reminder=True))
    elif new < old and new == 0 and settings.notify_back_to_normal and not silenced:
        pct = f"{mem.percent:.0f} %" if mem.percent is not None else "normal"
        notes.append(Notification("memory", "Memory back to normal", f"RAM in use: {pct}.", "low"))
    if new == 0:
        silenced = False
    return (
        replace(
            state,
            memory=mem,
            memory_level=mem.level,
            memory_seq=stamp,
            memory_silenced=silenced,
        ),
        notes,
    )


def _version_key(version: str) -> tuple[int, Version | str]:
    try:
        return (1, Version(version))
    except InvalidVersion:
        return (0, version)


def _remember(versions: frozenset[str], version: str) -> frozenset[str]:
    """Add a version, forgetting the oldest beyond the bound: they cannot be offered again."""
    kept = sorted(versions | {version}, key=_version_key)
    return frozenset(kept[-MAX_REMEMBERED_VERSIONS:])


def _observe_update(state: TrayState, version: str, url: str | None, dismissed: bool) -> Result:
    if dismissed:
        return replace(state, dismissed_versions=state.dismissed_versions | {version}), []
    if version in state.dismissed_versions or version in state.announced_versions:
        return state, []
    note = Notification(
        "update",
        f"Voxtral {version} is available",
        "Open the tray menu to see the release page, or skip this version.",
    )
    return replace(state, announced_versions=_remember(state.announced_versions, version)), [note]


def _sync_instance(state: TrayState, instance: str | None, last_seq: int | None) -> TrayState:
    """A new daemon instance numbers events from scratch: start counting from its present."""
    if instance is None or instance == state.instance:
        if state.last_seq is None and last_seq is not None:
            return replace(state, last_seq=last_seq)
        return state
    return replace(state, instance=instance, last_seq=last_seq, memory_seq=-1)


def on_status(state: TrayState, status: Status, settings: Settings) -> Result:
    """A fresh GET /api/status answer."""
    state = _sync_instance(state, status.instance, status.events_last_seq)
    state = replace(state, online=True, ever_online=True, offline_reason="", status=status)
    notes: list[Notification] = []
    # No percent means the daemon has not read memory yet (it just started): that "normal"
    # is no reading, and taking it as one would re-announce a warning a moment later.
    if status.memory is not None and status.memory.percent is not None:
        stamp = status.events_last_seq if status.events_last_seq is not None else state.memory_seq
        state, more = _observe_memory(state, status.memory, stamp, False, settings)
        notes += more
    upd = status.update
    if upd and upd.available and upd.latest_version:
        state, more = _observe_update(state, upd.latest_version, upd.release_url, upd.dismissed)
        notes += more
    return state, _coalesce(notes)


def on_events(state: TrayState, batch: EventBatch, settings: Settings) -> Result:
    """A GET /api/events answer; a burst yields at most one notice of each kind."""
    if batch.instance is not None and state.instance not in (None, batch.instance):
        # Numbering began again: these events answer a question about the
        # old daemon. Skip them; the next status poll re-reads the state.
        return _sync_instance(state, batch.instance, batch.last_seq), []
    if state.last_seq is None:
        return replace(state, last_seq=batch.last_seq, instance=batch.instance), []
    if batch.last_seq is not None and batch.last_seq < state.last_seq:
        # An older daemon without instance ids restarted: its numbering is lower.
        return replace(state, last_seq=batch.last_seq, memory_seq=-1), []
    notes: list[Notification] = []
    last = state.last_seq
    for event in batch.events:
        if event.seq <= last:
            continue
        last = event.seq
        state, more = _on_event(state, event.seq, event.type, event.data, settings)
        notes += more
    if batch.last_seq is not None and not batch.events:
        last = max(last, batch.last_seq)
    return replace(state, last_seq=last), _coalesce(notes)


def _on_event(state: TrayState, seq: int, kind: str, data: dict, settings: Settings) -> Result:
    if kind in MEMORY_EVENTS:
        level = data.get("level")
        if level not in LEVELS:
            level = MEMORY_EVENTS[kind]
        mem = Memory.parse({**data, "level": level}) or Memory(MemoryLevel(level))
        return _observe_memory(state, mem, seq, data.get("reminder") is True, settings)
    if kind == "update_available":
        version = data.get("version")
        if isinstance(version, str) and version:
            url = data.get("release_url")
            return _observe_update(state, version, url if isinstance(url, str) else None, False)
        return state, []
    if kind == "job_failed":
        if not settings.notify_job_failed or data.get("final") is False:
            return state, []
        name = data.get("file") if isinstance(data.get("file"), str) else "a file"
        error = data.get("error") if isinstance(data.get("error"), str) else ""
        message = f"{name}: {error}" if error else f"{name} could not be transcribed."
        return state, [Notification("job_failed", "Transcription failed", message)]
    if kind in ("paused", "resumed") and state.status is not None:
        paused = kind == "paused"
        st = replace(state.status, paused=paused)
        if st.job is None:
            st = replace(st, state="paused" if paused else "idle")
        return replace(state, status=st), []
    return state, []


def _coalesce(notes: list[Notification]) -> list[Notification]:
    """Keep one notice per kind: the latest, except failures, which are counted."""
    by_kind: dict[str, Notification] = {}
    failures = 0
    for note in notes:
        if note.kind == "job_failed":
            failures += 1
        by_kind[note.kind] = note
    if failures > 1:
        by_kind["job_failed"] = Notification(
            "job_failed",
            f"{failures} transcriptions failed",
            "The files were moved to the Failed folder; see the tray menu for the queue.",
        )
    return list(by_kind.values())


def on_offline(state: TrayState, reason: str) -> TrayState:
    """The daemon stopped answering: show it, say nothing, keep what was announced."""
    return replace(state, online=False, offline_reason=reason)


def on_dismiss_memory(state: TrayState) -> TrayState:
    """The user asked for quiet until memory is back to normal."""
    if level_rank(state.memory_level) == 0:
        return state
    return replace(state, memory_silenced=True)


def on_skip_version(state: TrayState, version: str) -> TrayState:
    """The user skipped a release; a newer one will still be announced."""
    return replace(state, dismissed_versions=state.dismissed_versions | {version})
