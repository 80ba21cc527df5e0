"""A look at a finished transcript: is there any text, and how does it begin.

The daemon's job_done event says a transcript was written, not whether anything
usable is in it: a damaged recording can give a 0-byte text. The tray reads the
first few kilobytes of the .txt (a local file it may open anyway) so a notice
never calls an empty transcript a success, and a ready notice can quote the
first line. Only regular files are read, and only PEEK_BYTES of them.
"""

from __future__ import annotations

import os
import stat
from dataclasses import replace

from tray.model import Event, EventBatch, pick_transcript

PEEK_BYTES = 4096


def first_line(path: str) -> tuple[bool, str]:
    """(empty, first line) of a text file; (False, "") when it cannot be read."""
    if not path.endswith(".txt") or not os.path.isabs(path):
        return False, ""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return False, ""
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return False, ""
        head = os.read(fd, PEEK_BYTES).decode("utf-8", errors="replace")
    except OSError:
        return False, ""
    finally:
        os.close(fd)
    text = head.strip()
    return not text, text.splitlines()[0].strip() if text else ""


def enrich(batch: EventBatch) -> EventBatch:
    """job_done events with "empty" and "first_line" read off their transcript."""
    if not any(e.type == "job_done" for e in batch.events):
        return batch
    events = []
    for event in batch.events:
        if event.type == "job_done":
            transcript = pick_transcript(event.data.get("outputs"))
            if transcript:
                empty, line = first_line(transcript)
                event = Event(event.seq, event.type,
                              {**event.data, "empty": empty, "first_line": line})
        events.append(event)
    return replace(batch, events=tuple(events))
