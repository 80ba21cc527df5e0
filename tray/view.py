"""What the user sees for a TrayState: menu entries, tooltip line, icon look.

Pure functions of the state, so the menu text and enabled flags are tested
without a desktop, and the UI layer only copies them onto pystray.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from tray import prefs
from tray.model import Machine, level_rank
from tray.notices import Command, name
from tray.notifier import RECENT, TrayState
from tray.state import QUEUE_SHOWN
from voxtrald.states import MemoryLevel

APP_TITLE = "Voxtral"
# What the X11 tray backend cannot write as Latin-1, in the nearest Latin-1 words.
_LATIN1 = {"\u2014": "-", "\u2013": "-", "\u2026": "...", "\u2018": "'", "\u2019": "'",
           "\u201c": '"', "\u201d": '"', "\u2212": "-"}


@dataclass(frozen=True)
class MenuEntry:
    key: str  # stable id the UI maps to an action
    text: str
    enabled: bool = True
    visible: bool = True
    checked: bool | None = None  # a switch, shown with a check mark
    children: tuple[MenuEntry, ...] = ()  # a submenu
    command: Command | None = None  # what a click asks for, where it depends on the state


@dataclass(frozen=True)
class IconLook:
    activity: str  # "offline", "idle", "transcribing" or "paused"
    memory: MemoryLevel = MemoryLevel.NORMAL
    progress: float | None = None  # 0..100 while transcribing
    badge: bool = False  # an update is available
    failed: bool = False  # jobs failed for good: a red mark until the user looks


# Every menu key, in menu order; "-" entries are separators. No entry carries a live
# figure (a percent, an ETA, free RAM): a changed label means rebuilding the menu, and
# an AppIndicator rebuild closes the menu under the user's pointer. Figures live in the
# tooltip and the icon, which change without touching the menu.
MENU_KEYS = (
    "status",
    "memory",
    "dismiss_memory",
    "failed",
    "queue",
    "team",
    "-1",
    "transcribe_file",
    "pause_resume",
    "start_daemon",
    "stop_daemon",
    "-2",
    "open_inbox",
    "open_transcripts",
    "open_failed",
    "recent",
    "-3",
    "check_updates",
    "open_release",
    "install_update",
    "skip_version",
    "-4",
    "notifications",
    "open_log",
    "about",
    "-5",
    "quit",
)
RECENT_KEYS = tuple(f"recent_{i}" for i in range(RECENT))
QUEUE_KEYS = tuple(f"queue_{i}" for i in range(QUEUE_SHOWN))
# Each file of the queue view, the running one first, opens onto its Cancel entry.
CANCEL_KEYS = tuple(f"{key}_cancel" for key in ("queue_now", *QUEUE_KEYS))
# The machines of a team the menu lists (fixed slots: the menu's shape never changes).
TEAM_SHOWN = 8
TEAM_KEYS = tuple(f"team_{i}" for i in range(TEAM_SHOWN))
# A machine not heard from for this long is said to be silent.
SILENT_AFTER = 60.0
NOTIFY_KEYS = tuple(f"notify_{key}" for key in prefs.LABELS)


def format_eta(seconds: float | None) -> str:
    if seconds is None or seconds < 0:
        return ""
    if seconds < 60:
        return f"{max(1, round(seconds))} s left"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min left"
    return f"{minutes // 60} h {minutes % 60} min left"


def _pct(value: float | None) -> str:
    return f"{value:.0f} %" if value is not None else "? %"


def status_line(state: TrayState) -> str:
    """What the daemon does, without figures that change while it does it (see MENU_KEYS)."""
    if not state.online:
        return "Voxtral is not running"
    st = state.status
    assert st is not None
    queued = f" · {st.queued} queued" if st.queued else ""
    if st.job is not None:
        return f"Transcribing {name(st.job.file)}" + queued
    if st.paused:
        return "Paused" + queued
    if st.waiting_reason:
        return f"Waiting: {name(st.waiting_reason)}{queued}"
    return "Idle" + queued


def memory_line(state: TrayState) -> str:
    """Shown only while memory is high; the level, not the figure (it changes every poll)."""
    if state.memory_level == MemoryLevel.CRITICAL:
        return "Memory critical — close other applications"
    if state.memory_level == MemoryLevel.WARNING:
        return "Memory high — close other applications"
    return ""


def failed_line(state: TrayState) -> str:
    st = state.status if state.online else None
    if st is None or not st.failed:
        return ""
    return f"{st.failed} failed — see the Failed folder"


def job_line(state: TrayState, now: float | None = None) -> str:
    """"meeting.m4a 42 % · 3 min left", the ETA counted down since the daemon gave it."""
    job = state.status.job if state.status else None
    if job is None:
        return ""
    parts = [name(job.file)]
    if job.percent is not None:
        parts[0] += f" {_pct(job.percent)}"
    eta = format_eta(state.eta_left(now))
    if eta:
        parts.append(eta)
    return " · ".join(parts)


def tooltip(state: TrayState, now: float | None = None) -> str:
    """One line, as in "Voxtral — Transcribing meeting.m4a 42 % · 3 min left · RAM 83 %"."""
    if not state.online:
        return f"{APP_TITLE} — not running"
    st = state.status
    assert st is not None
    line = status_line(state)
    if st.job is not None:
        line = "Transcribing " + job_line(state, now) + (f" · {st.queued} queued"
                                                         if st.queued else "")
    if st.failed:
        line += f" · {st.failed} failed"
    if state.memory is not None and state.memory.percent is not None:
        line += f" · RAM {_pct(state.memory.percent)}"
    offer = state.update_offer()
    if offer:
        line += f" · update {offer[0]}"
    return f"{APP_TITLE} — {line}"


def latin1_title(text: str) -> str:
    """`text` as the X11 tray backend can write it (Latin-1), keeping what it can.

    pystray's X11 backend sets the window title as a Latin-1 string: a dash,
    an ellipsis or a Japanese file name would end the tray with
    UnicodeEncodeError. Typographic marks get their plain forms, accented
    letters lose their accents where Latin-1 lacks them, the rest become "?".
    """
    out = []
    for ch in text:
        if ord(ch) < 0x100:
            out.append(ch if unicodedata.category(ch) != "Cc" else "?")
        elif ch in _LATIN1:
            out.append(_LATIN1[ch])
        else:
            plain = "".join(c for c in unicodedata.normalize("NFKD", ch)
                            if ord(c) < 0x100 and not unicodedata.combining(c))
            out.append(plain or "?")
    return "".join(out)


def safe_release_url(url: str | None) -> str | None:
    """Only https pages are opened: a daemon cannot make the tray launch other schemes."""
    if url and url.lower().startswith("https://") and len(url) > len("https://"):
        return url
    return None


def _recent(state: TrayState) -> MenuEntry:
    items = state.recent
    children = [
        MenuEntry(
            key,
            name(items[i].file) if i < len(items) else "",
            visible=i < len(items),
            command=Command("open_file", items[i].transcript) if i < len(items) else None,
        )
        for i, key in enumerate(RECENT_KEYS)
    ]
    children.append(MenuEntry("recent_none", "No transcripts yet", False, visible=not items))
    return MenuEntry("recent", "Recent transcripts", children=tuple(children))


def _file(key: str, text: str, job_id: int | None) -> MenuEntry:
    """A file of the queue view: a submenu whose one entry cancels its job.

    The submenu is there for every slot, shown or not, so the menu's shape never
    changes (a new shape means a rebuild); the Cancel entry names its job in its
    command, so a click cancels the file that was shown, not whatever holds the
    slot by then.
    """
    cancel = MenuEntry(f"{key}_cancel", "Cancel", enabled=job_id is not None,
                       command=Command("cancel", job_id) if job_id is not None else None)
    return MenuEntry(key, text, visible=bool(text), children=(cancel,))


def _queue(state: TrayState) -> MenuEntry:
    """The queue view: what runs now, then the next files in order, bounded; each can be
    cancelled (its file stays where it is)."""
    st = state.status if state.online else None
    queued = st.queued if st else 0
    items = state.queue if queued else ()
    children = [_file(key, name(items[i].file) if i < len(items) else "",
                      items[i].id if i < len(items) else None)
                for i, key in enumerate(QUEUE_KEYS)]
    more = queued - len(items)
    children.append(MenuEntry("queue_more", f"and {more} more" if more > 0 else "",
                              enabled=False, visible=more > 0 and bool(items)))
    job = st.job if st else None
    children.insert(0, _file("queue_now", f"Now: {name(job.file)}" if job else "",
                             job.id if job else None))
    # Shown while a file runs too, even with none waiting: the running one can be cancelled.
    return MenuEntry("queue", f"Queue: {queued} waiting" if queued else "Queue: none waiting",
                     visible=bool(queued or job), children=tuple(children))


def _machine_line(machine: Machine, mine: str) -> str:
    who = f"{machine.name} (this machine)" if machine.name == mine else machine.name
    if machine.seen_seconds_ago >= SILENT_AFTER:
        return f"{who}: not heard from for {max(1, round(machine.seen_seconds_ago / 60))} min"
    doing = "transcribing" if machine.running is not None else "idle"
    if machine.memory_level and machine.memory_level != "normal":
        doing += f", memory {machine.memory_level}"
    return f"{who}: {doing}"


def _team(state: TrayState) -> MenuEntry:
    """The team sharing this daemon's queue: each machine and what it does; absent alone."""
    team = state.status.team if state.online and state.status else None
    members = team.members if team else ()
    children = [MenuEntry(key, _machine_line(members[i], team.machine)
                          if team and i < len(members) else "",
                          enabled=False, visible=i < len(members))
                for i, key in enumerate(TEAM_KEYS)]
    if team is None:
        label = ""
    elif not team.reachable:
        label = "Team queue unreachable: no new job is taken"
    else:
        label = f"Team: {len(members)} machine{'s' if len(members) != 1 else ''}"
    return MenuEntry("team", label, visible=team is not None, children=tuple(children))


def _install(state: TrayState) -> MenuEntry:
    """"Install X.Y.Z and restart"; while an install runs, disabled and saying so."""
    install = state.install
    if install.applying is not None:
        running = name(install.applying)
        text = f"Restarting into {running}…" if install.restarting else f"Installing {running}…"
        return MenuEntry("install_update", text, enabled=False)
    offer = state.install_offer() if state.online else None
    if offer is None:
        return MenuEntry("install_update", "", enabled=False, visible=False)
    return MenuEntry("install_update", f"Install {name(offer)} and restart",
                     command=Command("install_update", offer))


def _notifications(state: TrayState) -> MenuEntry:
    chosen = state.prefs.to_dict()
    children = tuple(
        MenuEntry(key, label, checked=chosen[field])
        for key, (field, label) in zip(NOTIFY_KEYS, prefs.LABELS.items(), strict=True)
    )
    return MenuEntry("notifications", "Notifications", children=children)


def menu(state: TrayState, can_choose: bool = False) -> list[MenuEntry]:
    online = state.online
    st = state.status if online else None
    offer = state.update_offer() if online else None
    # Offline, the folders come from the config file: they exist without the daemon.
    folders = st.folders if st else state.local_folders
    elevated = level_rank(state.memory_level) > 0
    paused = bool(st and st.paused)
    entries = {
        "status": MenuEntry("status", status_line(state), enabled=False),
        "memory": MenuEntry("memory", memory_line(state), enabled=False,
                            visible=online and elevated),
        "failed": MenuEntry("failed", failed_line(state), enabled=False,
                            visible=bool(failed_line(state))),
        # Left out where no file chooser exists, rather than shown broken.
        "transcribe_file": MenuEntry("transcribe_file", "Transcribe a file…",
                                     enabled=bool(folders.get("inbox")), visible=can_choose),
        "pause_resume": MenuEntry(
            "pause_resume", "Resume transcription" if paused else "Pause transcription", online,
            visible=online,
        ),
        "start_daemon": MenuEntry(
            "start_daemon", "Starting Voxtral…" if state.starting else "Start Voxtral",
            enabled=not state.starting, visible=not online,
        ),
        "stop_daemon": MenuEntry("stop_daemon", "Stop Voxtral",
                                 visible=online and state.can_stop),
        "open_inbox": MenuEntry("open_inbox", "Open inbox folder", bool(folders.get("inbox"))),
        "open_transcripts": MenuEntry(
            "open_transcripts", "Open transcripts folder", bool(folders.get("transcripts"))
        ),
        "open_failed": MenuEntry(
            "open_failed", "Open Failed folder", bool(folders.get("failed")),
            visible=bool(st and st.failed),
        ),
        "recent": _recent(state),
        "queue": _queue(state),
        "team": _team(state),
        "check_updates": MenuEntry("check_updates", "Check for updates now", online),
        "open_release": MenuEntry(
            "open_release",
            f"Update {offer[0]} available — open release page" if offer else "",
            enabled=bool(offer and safe_release_url(offer[1])),
            visible=offer is not None,
        ),
        "install_update": _install(state),
        "skip_version": MenuEntry(
            "skip_version",
            f"Skip version {offer[0]}" if offer else "",
            visible=offer is not None,
        ),
        "dismiss_memory": MenuEntry(
            "dismiss_memory",
            "Memory warnings dismissed" if state.memory_silenced else "Dismiss memory warnings",
            enabled=online and elevated and not state.memory_silenced,
            visible=online and elevated,
        ),
        "notifications": _notifications(state),
        "open_log": MenuEntry("open_log", "Open daemon log" if state.daemon_log else "Open log"),
        "about": MenuEntry("about", "About Voxtral"),
        "quit": MenuEntry("quit", "Quit Voxtral tray"),
    }
    return [entries.get(key, MenuEntry(key, "-", enabled=False)) for key in MENU_KEYS]


def flatten(entries: list[MenuEntry]) -> dict[str, MenuEntry]:
    """Every entry by key, submenus' entries included."""
    out: dict[str, MenuEntry] = {}
    for entry in entries:
        out[entry.key] = entry
        out.update(flatten(list(entry.children)))
    return out


def icon_look(state: TrayState) -> IconLook:
    if not state.online or state.status is None:
        return IconLook("offline")
    st = state.status
    memory = state.memory_level if state.memory is not None else MemoryLevel.NORMAL
    badge = state.update_offer() is not None
    failed = st.failed > state.failed_seen
    if st.job is not None:
        # Whole percents: the ring moves at each report, and is redrawn at most 100 times.
        progress = float(round(min(100.0, max(0.0, st.job.percent or 0.0))))
        return IconLook("transcribing", memory, progress, badge, failed)
    return IconLook("paused" if st.paused else "idle", memory, None, badge, failed)
