"""How the client commands show the daemon's answers to a person: pure text functions.

Kept apart from the commands so `status`, `jobs` and `status --watch` render
alike and the wording is tested without a daemon. The callers pass data whose
strings were already made printable (`cli_client.printable`).
"""

from __future__ import annotations

from typing import Any

from voxtrald.states import JOB_STATE_NAMES, MEMORY_EVENTS, EventType, JobState, MemoryLevel

BAR_WIDTH = 24
JOB_STATES = JOB_STATE_NAMES


def progress_bar(percent: float | None, width: int = BAR_WIDTH) -> str:
    pct = 0.0 if percent is None else max(0.0, min(100.0, float(percent)))
    filled = int(round(width * pct / 100))
    return "[" + "#" * filled + "-" * (width - filled) + f"] {pct:5.1f}%"


def format_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    total = max(0, int(round(float(seconds))))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def render_status(st: dict[str, Any]) -> str:
    lines: list[str] = []
    # The product's short name, as the tray says it ("app_name" is the long form).
    name = "Voxtral"
    state = st.get("state", "unknown")
    lines.append(f"{name} {st.get('version', '?')}: {state}")
    if st.get("paused"):
        lines.append("Paused: new jobs wait; `voxtrald resume` starts them again")
    if st.get("waiting_reason"):
        lines.append(f"Waiting: {st['waiting_reason']}")
    for hold in st.get("held") or []:
        lines.append(f"Held:    files in {hold.get('folder')}: {hold.get('reason')}")
    queue = st.get("queue") or {}
    lines.append("Queue:   " + ", ".join(f"{queue.get(s, 0)} {s}" for s in JOB_STATES))
    lines.extend(render_team(st.get("team")))
    job = st.get("current_job")
    if job:
        eta = job.get("eta_seconds")
        eta_text = f"  ETA {format_seconds(eta)}" if eta is not None else ""
        lines.append(f"Current: #{job.get('id')} {job.get('file', '')}")
        lines.append(f"         {progress_bar(job.get('percent'))}{eta_text}")
    mem = st.get("memory")
    if mem:
        percent = mem.get("percent")
        used = "unknown" if percent is None else f"{float(percent):.0f} % used"
        line = f"Memory:  {mem.get('level', '?')}, {used}"
        if mem.get("available_gb") is not None:
            line += f", {float(mem['available_gb']):.1f} GB available"
        if mem.get("level") != MemoryLevel.NORMAL and mem.get("message"):
            line += f". {mem['message']}"
        lines.append(line)
    upd = st.get("update")
    if upd:
        if upd.get("update_available") and not upd.get("dismissed"):
            line = (f"Update:  {upd.get('latest_version')} is available "
                    f"(this is {upd.get('current_version')})")
            if upd.get("release_url"):
                line += f": {upd['release_url']}"
        elif upd.get("error"):
            line = f"Update:  last check failed ({upd['error']})"
        else:
            line = f"Update:  up to date ({upd.get('current_version')})"
        lines.append(line)
    folders = st.get("folders") or {}
    if folders.get("inbox"):
        lines.append(f"Inbox:   {folders['inbox']}")
    if folders.get("transcripts"):
        lines.append(f"Output:  {folders['transcripts']}")
    return "\n".join(lines)


def render_team(team: Any) -> list[str]:
    """The team queue's lines of `voxtrald status`: where it is, each machine, its job."""
    if not isinstance(team, dict):
        return []
    head = f"Team:    {team.get('queue')}, this machine is {team.get('machine')}"
    if team.get("reachable") is False:
        head += " (cannot be reached now: machines as last heard)"
    lines = [head]
    for member in team.get("members") or []:
        if not isinstance(member, dict):
            continue
        running = member.get("running")
        doing = f"running #{running}" if running else "idle"
        ago = member.get("seen_seconds_ago")
        heard = (f", last heard {format_seconds(float(ago))} ago"
                 if isinstance(ago, int | float) and ago >= 60 else "")
        level = member.get("memory_level")
        memory = f", memory {level}" if level and level != MemoryLevel.NORMAL else ""
        lines.append(f"         {member.get('name')}: {doing}{memory}{heard}")
    return lines


def render_event(event: dict[str, Any]) -> str | None:
    """One line for an event worth showing in `status --watch`; None for the others."""
    kind = event.get("type")
    raw = event.get("data")
    data: dict[str, Any] = raw if isinstance(raw, dict) else {}
    name = data.get("file") or "a file"
    if kind == EventType.JOB_STARTED:
        return f"started  #{data.get('id')} {name}"
    if kind == EventType.JOB_DONE:
        took = data.get("wall_seconds")
        audio = data.get("duration")
        detail = (f" ({format_seconds(audio)} of audio in {format_seconds(took)})"
                  if audio is not None and took is not None else "")
        return f"done     #{data.get('id')} {name}{detail}"
    if kind == EventType.JOB_FAILED:
        again = "" if data.get("final") else ", will retry"
        return f"failed   #{data.get('id')} {name}: {data.get('error') or 'unknown error'}{again}"
    if kind == EventType.JOB_CANCELLED:
        return f"cancelled #{data.get('id')} {name}"
    if kind in MEMORY_EVENTS.values():
        percent = data.get("percent")
        used = f" ({float(percent):.0f} % used)" if isinstance(percent, int | float) else ""
        return f"memory   {data.get('level') or str(kind).removeprefix('memory_')}{used}"
    if kind in (EventType.PAUSED, EventType.RESUMED):
        return str(kind)
    if kind == EventType.UPDATE_AVAILABLE:
        return f"update   {data.get('version')} is available"
    return None


def render_cancelled(job: dict[str, Any]) -> str:
    """What `voxtrald cancel ID` says: the job is cancelled, where its file is, how to undo."""
    job_id = job.get("id")
    return (f"Job #{job_id} ({job.get('file', '')}) is cancelled: it is not transcribed, and "
            f"its file stays where it is ({job.get('source_path', '?')}).\n"
            f"`voxtrald retry {job_id}` transcribes it anyway.")


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


def render_jobs(jobs: list[dict[str, Any]]) -> str:
    if not jobs:
        return "No jobs."
    ordered = sorted(jobs, key=lambda j: int(j.get("id") or 0), reverse=True)
    rows = [("ID", "STATE", "FILE", "AUDIO", "TOOK", "CREATED", "NOTE")]
    for job in ordered:
        note = job.get("error") or ""
        state = job.get("state", "")
        if state == JobState.RUNNING and job.get("percent") is not None:
            note = f"{float(job['percent']):.0f}%"
            if job.get("host"):
                note += f" on {job['host']}"
        elif state == JobState.DUPLICATE and job.get("duplicate_of"):
            note = f"same as #{job['duplicate_of']}"
        elif state == JobState.QUEUED and note and job.get("attempts"):
            # An attempt failed and another is due: the counter says how far along it is.
            note = f"will retry [{job.get('attempts')}/{job.get('max_attempts', '?')}] {note}"
        elif state == JobState.FAILED:
            # Failed is for good: an attempt counter would read as if more were coming.
            note = f"gave up: {note}" if note else "gave up"
        elif state == JobState.CANCELLED:
            note = f"not transcribed; `voxtrald retry {job.get('id')}` transcribes it anyway"
        elif state == JobState.DONE and job.get("warnings"):
            # A truncated file, a language the model cannot do: done, but worth a look.
            note = "warning: " + "; ".join(str(w) for w in job["warnings"])
        duration = job.get("duration")
        wall = job.get("wall_seconds")
        rows.append((
            _cell(job.get("id")),
            state,
            _cell(job.get("file")),
            format_seconds(duration) if duration is not None else "",
            format_seconds(wall) if wall is not None else "",
            _cell(job.get("created_at")),
            note.replace("\n", " ")[:80],
        ))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    out = []
    for row in rows:
        cells = [c.ljust(w) for c, w in zip(row[:-1], widths, strict=True)]
        out.append("  ".join([*cells, row[-1]]).rstrip())
    return "\n".join(out)
