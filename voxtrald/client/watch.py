"""`voxtrald status --watch`: the status as a live view until Ctrl-C.

It follows the daemon's event stream (`GET /api/events?after=SEQ&timeout=S`)
between status reads, so a finished job or a memory warning shows at once
and the progress bar moves about once a second. The daemon may go away and
come back (a restart numbers its events from scratch under a new instance
id): the view says so and carries on. Ctrl-C ends it with exit status 0.

On a terminal the view redraws in place; piped, it prints a frame only when
something changed, so a log of it stays readable. With `--json` each changed
status is printed as one line of JSON (JSON Lines), for scripts.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from types import FrameType
from typing import Any, TextIO

from voxtrald import exit_codes
from voxtrald.client.calls import printable, socket_for
from voxtrald.client.connection import ApiResponseError, Client, DaemonUnreachable
from voxtrald.client.render import render_event, render_status
from voxtrald.files.textsafe import escape_controls

EVENT_WAIT = 1.0  # seconds a long-poll waits: also how often progress is redrawn
RETRY_SECONDS = 2.0  # between attempts while the daemon is unreachable
RECENT_EVENTS = 5
CLEAR = "\x1b[H\x1b[2J"


@dataclass
class WatchState:
    """What the view remembers between frames: where the event stream is, and its tail."""

    instance: str | None = None
    seq: int = 0
    recent: deque[str] = field(default_factory=lambda: deque(maxlen=RECENT_EVENTS))
    unreachable: str | None = None

    def saw_status(self, status: dict[str, Any]) -> None:
        instance = status.get("instance")
        last = status.get("events_last_seq")
        last = last if isinstance(last, int) and not isinstance(last, bool) else 0
        if instance != self.instance:
            if self.instance is not None:
                self.note("the daemon restarted")
            self.instance = instance if isinstance(instance, str) else None
            self.seq = last
        self.unreachable = None

    def saw_events(self, batch: dict[str, Any]) -> None:
        if batch.get("instance") not in (None, self.instance):
            return  # answered by a daemon that has since restarted: the next status resyncs
        for event in batch.get("events") or []:
            if not isinstance(event, dict):
                continue
            line = render_event(printable(event))
            if line:
                self.note(line, event.get("time"))
        last = batch.get("last_seq")
        if isinstance(last, int) and not isinstance(last, bool):
            self.seq = last

    def note(self, text: str, stamp: Any = None) -> None:
        when = _clock(stamp)
        self.recent.append(f"{when}  {text}")


def _clock(stamp: Any) -> str:
    """HH:MM:SS in local time, from the event's ISO time or now."""
    if isinstance(stamp, str):
        try:
            return datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone() \
                .strftime("%H:%M:%S")
        except ValueError:
            pass
    return datetime.now().strftime("%H:%M:%S")


def frame(status: dict[str, Any] | None, state: WatchState) -> str:
    """One screenful: the status (or why there is none), recent events, how to stop."""
    if status is None:
        lines = [f"voxtrald not reachable: {escape_controls(state.unreachable or '')}",
                 f"Trying again every {RETRY_SECONDS:g} s."]
    else:
        lines = [render_status(printable(status))]
    if state.recent:
        lines += ["", "Recent:", *(f"  {line}" for line in state.recent)]
    lines += ["", "Watching (Ctrl-C to stop)"]
    return "\n".join(lines)


class _Stop(Exception):
    pass


def _on_term(_signum: int, _frame: FrameType | None) -> None:
    raise _Stop


def watch(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    tty = out.isatty() and not args.json
    client = Client(socket_for(args.socket), timeout=args.timeout)
    state = WatchState()
    shown = ""
    previous = signal.signal(signal.SIGTERM, _on_term)
    try:
        while True:
            status = _read_status(client, state)
            if args.json:
                text = json.dumps(status, ensure_ascii=False) if status is not None else ""
            else:
                text = frame(status, state)
            if text and text != shown:
                if tty:
                    out.write(CLEAR + text + "\n")
                else:
                    out.write(text + ("\n" if args.json else "\n\n"))
                out.flush()
                shown = text
            if status is None:
                time.sleep(RETRY_SECONDS)
                continue
            _follow_events(client, state, args.timeout)
    except (KeyboardInterrupt, _Stop):
        if tty:
            out.write("\n")
        return exit_codes.OK
    finally:
        signal.signal(signal.SIGTERM, previous)


def _read_status(client: Client, state: WatchState) -> dict[str, Any] | None:
    try:
        status = client.get("/api/status")
    except (DaemonUnreachable, ApiResponseError) as exc:
        if state.unreachable is None:
            state.note("the daemon is not reachable")
        state.unreachable = str(exc)
        return None
    if state.unreachable is not None and state.instance is not None:
        state.note("the daemon answers again")
    state.saw_status(status)
    return status


def _follow_events(client: Client, state: WatchState, timeout: float) -> None:
    path = f"/api/events?after={state.seq}&timeout={EVENT_WAIT:g}"
    try:
        state.saw_events(client.get(path, timeout=EVENT_WAIT + timeout))
    except ApiResponseError:
        time.sleep(EVENT_WAIT)  # a daemon without the events route: poll the status only
    except DaemonUnreachable:
        pass  # the next status read says so
