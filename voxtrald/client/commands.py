"""Client subcommands of `voxtrald`: status, jobs, pause, resume, retry, cancel.

They are thin: one API call each through `cli_client.call_and_print`, which
prints the API's JSON as is (`--json`, for scripts) or a short human
rendering (`render`); `status --watch` loops in `watch`.
"""

from __future__ import annotations

import argparse

from voxtrald.client import watch
from voxtrald.client.calls import add_options, call_and_print
from voxtrald.client.render import (  # noqa: F401 - the rendering, under its long-standing names
    format_seconds,
    progress_bar,
    render_cancelled,
    render_event,
    render_jobs,
    render_status,
)
from voxtrald.states import JOB_STATE_NAMES

# Plain strings, as argparse shows them in its "invalid choice" message.
JOB_STATES = JOB_STATE_NAMES


# -- commands --------------------------------------------------------------


def _cmd_status(args: argparse.Namespace) -> int:
    if args.watch:
        return watch.watch(args)
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


def _cmd_cancel(args: argparse.Namespace) -> int:
    return call_and_print(args, lambda c: c.post(f"/api/jobs/{args.id}/cancel"),
                          render_cancelled)


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
    p.add_argument("--watch", action="store_true",
                   help="follow it live (progress, ETA, memory, events) until Ctrl-C")
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

    p = sub.add_parser("retry", help="queue a failed or cancelled job again")
    p.add_argument("id", type=_positive_int, metavar="ID", help="job id (see `voxtrald jobs`)")
    add_options(p)
    p.set_defaults(func=_cmd_retry)

    p = sub.add_parser("cancel", help="skip a queued or running job (its file stays where it is)")
    p.add_argument("id", type=_positive_int, metavar="ID", help="job id (see `voxtrald jobs`)")
    add_options(p)
    p.set_defaults(func=_cmd_cancel)
