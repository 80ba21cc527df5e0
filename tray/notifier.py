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
- a daemon restart or a burst of events never repeats or multiplies notices;
- finished jobs are announced in batches: one notice once the queue is idle
  (or every BATCH_MAX_HOLD seconds in a long run), not one per file;
- each kind can be switched off (TrayState.prefs, the Notifications menu);
- an update this install can apply is offered with *Install and restart*, and
  what became of an install is told once (tray.installing).

Time comes in as `now` (a monotonic clock reading), so batching is pure too.
"""

from __future__ import annotations

from dataclasses import replace

from packaging.version import InvalidVersion, Version

from tray import installing, notices
from tray.model import (
    LEVELS,
    ApplyProgress,
    EventBatch,
    Finished,
    Memory,
    Queued,
    Status,
    level_rank,
)
from tray.notices import Notification
from tray.state import RECENT, Settings, TrayState
from voxtrald import bodies
from voxtrald.client.read import read
from voxtrald.states import MemoryLevel

# How many announced versions to remember; old ones can never come back.
MAX_REMEMBERED_VERSIONS = 20
# The daemon's memory events, one per level: memory_normal, memory_warning, memory_critical.
MEMORY_EVENTS = {f"memory_{level}": level for level in MemoryLevel}
# A batch of finished jobs is announced this long after its last job, once the daemon
# has nothing more to do; and at the latest this long after its first, so the first
# notice of files dropped together comes within 15 s (a poll's margin kept) of the first
# one finishing, and covers every file that finished meanwhile.
BATCH_QUIET = 3.0
BATCH_MAX_HOLD = 12.0

Result = tuple[TrayState, list[Notification]]


def _observe_memory(
    state: TrayState, mem: Memory, stamp: int, reminder: bool, settings: Settings
) -> Result:
    if stamp < state.memory_seq:
        return state, []
    old, new = level_rank(state.memory_level), level_rank(mem.level)
    silenced = state.memory_silenced
    notes: list[Notification] = []
    paused = bool(state.status and state.status.paused)
    if new > old and not silenced:
        notes.append(notices.memory_notice(mem, reminder=False, paused=paused))
    elif new == old and new == MemoryLevel.CRITICAL.rank and reminder and not silenced:
        notes.append(notices.memory_notice(mem, reminder=True, paused=paused))
    elif new < old and new == 0 and state.paused_for_memory and paused:
        notes.append(notices.back_to_normal_notice(mem, still_paused=True))
    elif new < old and new == 0 and settings.notify_back_to_normal and not silenced:
        notes.append(notices.back_to_normal_notice(mem))
    if new == 0:
        silenced = False
        state = replace(state, paused_for_memory=False)
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


def _observe_update(
    state: TrayState, version: str, url: str | None, dismissed: bool, can_apply: bool
) -> Result:
    if dismissed:
        return replace(state, dismissed_versions=state.dismissed_versions | {version}), []
    if version in state.dismissed_versions or version in state.announced_versions:
        return state, []
    if not state.prefs.updates:
        return state, []  # not announced, so switching notices back on still tells
    note = notices.update_notice(version, url, can_apply)
    return replace(state, announced_versions=_remember(state.announced_versions, version)), [note]


def _sync_instance(state: TrayState, instance: str | None, last_seq: int | None) -> TrayState:
    """A new daemon instance numbers events from scratch: start counting from its present."""
    if instance is None or instance == state.instance:
        if state.last_seq is None and last_seq is not None:
            return replace(state, last_seq=last_seq)
        return state
    return replace(state, instance=instance, last_seq=last_seq, memory_seq=-1,
                   history_wanted=True, install=installing.restarted(state.install))


def _eta(state: TrayState, status: Status, now: float) -> TrayState:
    """Remember when the ETA changed: the same figure read again keeps counting down."""
    job = status.job
    if job is None or job.eta_seconds is None:
        return replace(state, eta_given=None)
    old = state.status.job if state.status else None
    if state.eta_given is not None and old is not None and old.id == job.id \
            and old.eta_seconds == job.eta_seconds:
        return state
    return replace(state, eta_given=job.eta_seconds, eta_at=now)


def on_status(state: TrayState, status: Status, settings: Settings, now: float = 0.0) -> Result:
    """A fresh GET /api/status answer."""
    state = _sync_instance(state, status.instance, status.events_last_seq)
    state = _eta(state, status, now)
    if status.failed < state.failed_seen:
        state = replace(state, failed_seen=status.failed)
    state = replace(state, online=True, ever_online=True, offline_reason="", status=status,
                    status_since_finished=True, starting=False)
    notes: list[Notification] = []
    # No percent means the daemon has not read memory yet (it just started): that "normal"
    # is no reading, and taking it as one would re-announce a warning a moment later.
    if status.memory is not None and status.memory.percent is not None:
        stamp = status.events_last_seq if status.events_last_seq is not None else state.memory_seq
        state, more = _observe_memory(state, status.memory, stamp, False, settings)
        notes += more
    upd = status.update
    if upd and upd.available and upd.latest_version:
        state, more = _observe_update(state, upd.latest_version, upd.release_url, upd.dismissed,
                                      upd.can_apply)
        notes += more
    return state, _coalesce(state, notes)


def on_events(state: TrayState, batch: EventBatch, settings: Settings, now: float = 0.0) -> Result:
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
        state, more = _on_event(state, event.seq, event.type, event.data, settings, now)
        notes += more
    if batch.last_seq is not None and not batch.events:
        last = max(last, batch.last_seq)
    return replace(state, last_seq=last), _coalesce(state, notes)


def _on_event(
    state: TrayState, seq: int, kind: str, data: dict, settings: Settings, now: float
) -> Result:
    if kind in MEMORY_EVENTS:
        body = read(bodies.MemoryEvent, data)
        if body["level"] not in LEVELS:
            body["level"] = MEMORY_EVENTS[kind]
        return _observe_memory(state, Memory.from_body(body), seq, body["reminder"], settings)
    if kind == "update_available":
        version = data.get("version")
        if isinstance(version, str) and version:
            url = data.get("release_url")
            # The event does not say whether this install can apply it; a status that
            # already shows this version does (the controller reads one first).
            upd = state.status.update if state.status else None
            can_apply = bool(upd and upd.latest_version == version and upd.can_apply)
            return _observe_update(state, version, url if isinstance(url, str) else None, False,
                                   can_apply)
        return state, []
    if kind in installing.OUTCOMES or kind == installing.RESTARTING:
        key = installing.news_key(state.instance, seq)
        install, notes = installing.on_event(state.install, key, kind, data)
        return replace(state, install=install), notes
    if kind == "job_done":
        return _on_finished(state, data, now), []
    if kind == "job_failed":
        if not state.prefs.job_failed or data.get("final") is False:
            return state, []
        job_id, file, error = data.get("id"), data.get("file"), data.get("error")
        ok_id = isinstance(job_id, int) and not isinstance(job_id, bool)
        return state, [notices.failed_notice(
            job_id if ok_id else None,
            file if isinstance(file, str) else "a file",
            error if isinstance(error, str) else "",
        )]
    if kind in ("paused", "resumed") and state.status is not None:
        paused = kind == "paused"
        st = replace(state.status, paused=paused)
        if not paused:
            state = replace(state, paused_for_memory=False)
        if st.job is None:
            st = replace(st, state="paused" if paused else "idle")
        return replace(state, status=st), []
    return state, []


def _coalesce(state: TrayState, notes: list[Notification]) -> list[Notification]:
    """Keep one notice per kind: the latest, except failures, which are counted."""
    by_kind: dict[str, Notification] = {}
    failures = 0
    for note in notes:
        if note.kind == "job_failed":
            failures += 1
        by_kind[note.kind] = note
    if failures > 1:
        folder = state.status.folders.get("failed") if state.status else None
        by_kind["job_failed"] = notices.failed_summary(failures, folder)
    return [n for n in by_kind.values() if state.prefs.allows(n.kind)]


# -- finished jobs: batches and the recent list ------------------------------------------


def _on_finished(state: TrayState, data: dict, now: float) -> TrayState:
    item = Finished.parse(data)
    if item is None:
        return state
    recent = state.recent
    if item.transcript and not item.empty:
        others = tuple(r for r in recent if item.job_id is None or r.job_id != item.job_id)
        recent = ((item,) + others)[:RECENT]
    state = replace(state, recent=recent)
    if not state.prefs.job_done:
        return state
    return replace(
        state,
        finished=state.finished + (item,),
        finished_first=state.finished_first if state.finished else now,
        finished_last=now,
        status_since_finished=False,
    )


def _busy(state: TrayState) -> bool:
    """Whether the daemon, as last seen, has more to do: another job is coming soon."""
    st = state.status
    if not state.online or st is None:
        return False
    return st.job is not None or (st.queued > 0 and not st.paused)


def on_tick(state: TrayState, now: float, settings: Settings | None = None) -> Result:
    """Time passed: announce the batch of finished jobs if it is complete (or old)."""
    settings = settings or Settings()
    if not state.finished:
        return state, []
    held = now - state.finished_first
    quiet = now - state.finished_last
    settled = (state.status_since_finished or not state.online) and not _busy(state)
    if held < BATCH_MAX_HOLD and not (settled and quiet >= BATCH_QUIET):
        return state, []
    folder = state.status.folders.get("transcripts") if state.status else None
    usable = tuple(i for i in state.finished if not i.empty)
    empty = tuple(i for i in state.finished if i.empty)
    notes = [notices.finished_notice(usable, folder, settings.can_copy)] if usable else []
    if empty:
        notes.append(notices.nothing_usable_notice(empty))
    cleared = replace(state, finished=(), finished_first=0.0, finished_last=0.0)
    return cleared, [n for n in notes if state.prefs.allows(n.kind)]


def on_recent(state: TrayState, items: tuple[Finished, ...]) -> TrayState:
    """The daemon's newest finished jobs (GET /api/jobs?state=done), for the menu."""
    return replace(state, recent=items[:RECENT])


def on_queue(state: TrayState, items: tuple[Queued, ...]) -> TrayState:
    return replace(state, queue=items)


def on_toggle(state: TrayState, key: str) -> TrayState:
    """A switch of the Notifications menu; turning finished jobs off drops the batch."""
    prefs = state.prefs.toggled(key)
    if not prefs.job_done:
        return replace(state, prefs=prefs, finished=())
    return replace(state, prefs=prefs)


def on_offline(state: TrayState, reason: str) -> TrayState:
    """The daemon stopped answering: show it, say nothing, keep what was announced."""
    return replace(state, online=False, offline_reason=reason)


def on_paused_for_memory(state: TrayState) -> TrayState:
    """Pause was pressed on a memory notice: tell when memory is normal again."""
    return replace(state, paused_for_memory=True)


def on_failures_seen(state: TrayState) -> TrayState:
    """The user looked at the failures (opened the Failed folder): the badge goes."""
    return replace(state, failed_seen=state.status.failed if state.status else 0)


def on_starting(state: TrayState, log_known: bool) -> TrayState:
    return replace(state, starting=True, daemon_log=state.daemon_log or log_known,
                   can_stop=True)


def on_dismiss_memory(state: TrayState) -> TrayState:
    """The user asked for quiet until memory is back to normal."""
    if level_rank(state.memory_level) == 0:
        return state
    return replace(state, memory_silenced=True)


def on_skip_version(state: TrayState, version: str) -> TrayState:
    """The user skipped a release; a newer one will still be announced."""
    return replace(state, dismissed_versions=state.dismissed_versions | {version})


# -- installing an update --------------------------------------------------------------


def wants_status_first(batch: EventBatch) -> bool:
    """A release was announced: read the status before the events, since only the status
    says whether this install can apply it (the notice's *Install and restart*). A job was
    cancelled: the queue view and the running file change at once, not at the next poll."""
    return any(e.type in ("update_available", "job_cancelled") for e in batch.events)


def watch_apply(state: TrayState) -> bool:
    """Whether the apply progress is worth reading: an install runs or could be started."""
    return state.online and (state.install.applying is not None
                             or state.install_offer() is not None)


def on_history(state: TrayState, batch: EventBatch) -> Result:
    """The events a daemon held when the tray met it: only install outcomes are news."""
    if batch.instance is not None and batch.instance != state.instance:
        return state, []  # yet another instance; the next status asks again
    install, notes = state.install, []
    for event in batch.events:
        if event.type in installing.OUTCOMES:
            key = installing.news_key(batch.instance, event.seq)
            install, more = installing.on_event(install, key, event.type, event.data, live=False)
            notes += more
    return replace(state, install=install, history_wanted=False), _coalesce(state, notes)


def on_apply_requested(state: TrayState, version: str) -> TrayState:
    return replace(state, install=installing.requested(state.install, version))


def on_apply_refused(state: TrayState, version: str, reason: str) -> Result:
    install, note = installing.refused(state.install, version, reason)
    return replace(state, install=install), [note]


def on_apply_started(state: TrayState, progress: ApplyProgress) -> TrayState:
    return replace(state, install=installing.started(state.install, progress))


def on_apply_progress(state: TrayState, progress: ApplyProgress) -> TrayState:
    return replace(state, install=installing.observed(state.install, progress))
