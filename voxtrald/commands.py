"""Client subcommands of `voxtrald`: status, jobs, pause, resume, retry.

They are thin: one API call each through `cli_client.call_and_print`, which
prints the API's JSON as is (`--json`, for scripts) or a short human
rendering. The rendering lives in pure functions so its wording is tested
without a daemon.
"""

from __future__ import annotations

import argparse
from typing import Any

from voxtrald.cli_client import add_options, call_and_print
from voxtrald.schema import JOB_STATE_NAMES, JobState, MemoryLevel

BAR_WIDTH = 24
# Plain strings, as argparse shows them in its "invalid choice" message.
JOB_STATES = JOB_STATE_NAMES


# -- pure rendering --------------------------------------------------------


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
    name = st.get("app_name") or "Voxtral"
    state = st.get("state", "unknown")
    lines.append(f"{name} {st.get('version', '?')}: {state}")
    if st.get("paused"):
        lines.append("Paused: new jobs wait; `voxtrald resume` starts them again")
    if st.get("waiting_reason"):
        lines.append(f"Waiting: {st['waiting_reason']}")
    queue = st.get("queue") or {}
    lines.append("Queue:   " + ", ".join(f"{queue.get(s, 0)} {s}" for s in JOB_STATES))
    job = st.get("current_job")
    if job:
        eta = job.get("eta_seconds")
        eta_text = f"  ETA {format_seconds(eta)}" if eta is not None else ""
        lines.append(f"Current: #{job.get('id')} {job.get('file', '')}")
        lines.append(f"         {progress_bar(job.get('percent'))}{eta_text}")
    mem = st.get("memory")
    if mem:
        percent = mem.get("percent")
        used = "unknown" if percent is None else f"{float(percent):.1f}% used"
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
        elif state == JobState.DUPLICATE and job.get("duplicate_of"):
            note = f"same as #{job['duplicate_of']}"
        elif state == JobState.FAILED and job.get("attempts") is not None:
            note = f"[{job['attempts']}/{job.get('max_attempts', '?')}] {note}"
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


# -- commands --------------------------------------------------------------


def _cmd_status(args: argparse.Namespace) -> int:
    return call_and_print(args, lambda c: c.get("/api/status"), render_status)


def _cmd_jobs(args: argparse.Namespace) -> int:
    query = f"/api/jobs?limit={args.limit}"
    if args.state:
        query += f"&state={args.state}"
    return call_and_print(args, lambda c: c.get(query),
                          lambda d: render_jobs(d.get("jobs", [])))


def _cmd_pause(args: argparse.Namespace) -> int:
    return call_and_print(args, lambda c: c.post("/api/pause"),
                lambda d: "Paused: the running job finishes; new jobs wait until "
                          "`voxtrald resume`.")


def _cmd_resume(args: argparse.Namespace) -> int:
    return call_and_print(args, lambda c: c.post("/api/resume"),
                          lambda d: "Resumed: taking new jobs.")


def _cmd_retry(args: argparse.Namespace) -> int:
    return call_and_print(args, lambda c: c.post(f"/api/jobs/{args.id}/retry"),
                lambda d: f"Job #{d.get('id', args.id)} ({d.get('file', '')}) is "
                          f"{d.get('state', 'queued')} again.")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a job id: {text!r}") from exc
    if value < 1:
        raise argparse.ArgumentTypeError(f"not a job id: {text!r}")
    return value


def _limit(text: str) -> int:
    value = _positive_int(text)
    if value > 1000:
        raise argparse.ArgumentTypeError("at most 1000")
    return value


def register(sub: argparse._SubParsersAction) -> None:
    """Add the client subcommands to `voxtrald`."""
    p = sub.add_parser("status", help="what the daemon is doing")
    add_options(p)
    p.set_defaults(func=_cmd_status)

    p = sub.add_parser("jobs", help="the queue and history, newest first")
    p.add_argument("--state", choices=JOB_STATES, help="only jobs in this state")
    p.add_argument("--limit", type=_limit, default=50, help="how many (1-1000, default 50)")
    add_options(p)
    p.set_defaults(func=_cmd_jobs)

    p = sub.add_parser("pause", help="stop taking new jobs (the running one finishes)")
    add_options(p)
    p.set_defaults(func=_cmd_pause)

    p = sub.add_parser("resume", help="take new jobs again")
    add_options(p)
    p.set_defaults(func=_cmd_resume)

    p = sub.add_parser("retry", help="queue a failed job again")
    p.add_argument("id", type=_positive_int, metavar="ID", help="job id (see `voxtrald jobs`)")
    add_options(p)
    p.set_defaults(func=_cmd_retry)
