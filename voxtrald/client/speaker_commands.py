"""`voxtrald speakers JOB [--rename 1=Alice 2=Bob]`: a job's speakers, and their names."""

from __future__ import annotations

import argparse
from typing import Any

from voxtrald.client.calls import add_options, call_and_print


def _job_id(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        raise argparse.ArgumentTypeError(f"not a job id: {text!r}")
    return int(text)


def _pair(text: str) -> tuple[str, str]:
    number, sep, name = text.partition("=")
    if not sep or not number.strip().isdigit() or not name.strip():
        raise argparse.ArgumentTypeError(f"expected N=NAME (like 1=Alice), not {text!r}")
    return number.strip(), name.strip()


def render(data: dict[str, Any]) -> str:
    rows = data.get("speakers") or []
    if not rows:
        return f"Job #{data.get('id')} ({data.get('file', '')}): no speaker labels."
    lines = [f"Job #{data.get('id')} ({data.get('file', '')}):"]
    for item in rows:
        seconds = float(item.get("seconds") or 0)
        minutes, secs = divmod(round(seconds), 60)
        lines.append(f"  {item.get('id')}  {item.get('label', '')}  {minutes}:{secs:02d}  "
                     f"\u201c{item.get('first_words', '')}\u2026\u201d")
    return "\n".join(lines)


def _cmd_speakers(args: argparse.Namespace) -> int:
    if args.rename:
        names = dict(args.rename)
        return call_and_print(
            args, lambda c: c.post(f"/api/jobs/{args.id}/speakers", {"names": names}), render)
    return call_and_print(args, lambda c: c.get(f"/api/jobs/{args.id}/speakers"), render)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("speakers", help="a finished job's speakers; --rename to name them",
                       description="List who speaks in a finished job (talk time, first "
                                   "words); --rename 1=Alice 2=Bob rewrites its transcripts "
                                   "with those names, kept for any later render.")
    p.add_argument("id", type=_job_id, metavar="JOB", help="job id (see `voxtrald jobs`)")
    p.add_argument("--rename", nargs="+", type=_pair, metavar="N=NAME",
                   help="new labels, e.g. 1=Alice 2=Bob")
    add_options(p)
    p.set_defaults(func=_cmd_speakers)
