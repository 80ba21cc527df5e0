"""The speakers setting: "auto" (tell them apart, count unknown), "off", or a count.

Declared once here for the config file, the per-file sidecar and the worker.
"""

from __future__ import annotations

from dataclasses import dataclass

AUTO, OFF = "auto", "off"
MAX_SPEAKERS = 20
ALLOWED = f'"auto", "off" or a number of speakers from 1 to {MAX_SPEAKERS}'


@dataclass(frozen=True)
class SpeakerChoice:
    enabled: bool
    count: int | None  # None: found by clustering


def parse(value: object) -> SpeakerChoice:
    """The choice a setting's value names; ValueError (saying what is allowed) otherwise."""
    text = str(value).strip().lower() if not isinstance(value, bool) else ""
    if text == AUTO:
        return SpeakerChoice(True, None)
    if text == OFF:
        return SpeakerChoice(False, None)
    if text.isdigit() and 1 <= int(text) <= MAX_SPEAKERS:
        return SpeakerChoice(True, int(text))
    raise ValueError(f"{str(value)[:40]!r} is not a speakers setting; use {ALLOWED}")


def is_valid(value: object) -> bool:
    try:
        parse(value)
    except ValueError:
        return False
    return True
