"""The checks behind each config key: what a value must be, in words the user reads.

Kept apart from `config` (which reads and applies the file) so both the config and
the folder rules (`jobs.rules`) check a key the same way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from voxtrald.engine.speakers import choice as speaker_choice
from voxtrald.transcripts import outputs

OUTPUT_FORMATS = outputs.FORMATS  # the formats are the renderers
AFTER_CHOICES = ("move", "keep", "delete")
COMPUTE_TYPES = ("int8", "int8_float32", "int16", "float32", "float16", "int8_float16", "default")
CHANNELS = ("stable", "prerelease")


def _range(lo: float, hi: float, unit: str, integer: bool = False) -> tuple[Any, str]:
    """A check that a number lies in [lo, hi], with the words that say so."""
    kind = "an integer" if integer else unit

    def fmt(v: float) -> str:
        return f"{v:g}"

    return (lambda v: lo <= v <= hi), f"{kind} from {fmt(lo)} to {fmt(hi)}" + (
        f" ({unit})" if integer and unit else "")


_DAY = 86400.0

_COMMAND_RULE = ("an empty list, or a command as a list whose first item is the program's "
                 "absolute path, such as [\"/usr/local/bin/notify\", \"{json}\"]")


def _is_language(value: str) -> bool:
    """A Whisper language code: two or three lower-case letters (en, de, haw, yue)."""
    return 2 <= len(value) <= 3 and value.isascii() and value.isalpha() and value.islower()


def _command(value: list[str]) -> bool:
    """No shell runs hooks, so the program must be named by its absolute path."""
    return not value or (len(value) <= 64 and Path(value[0]).is_absolute())


# Extra checks beyond the type: (predicate, what is allowed). Every number has an upper
# bound too: a value that passes its type but breaks the daemon (an infinite timeout)
# must stop start-up with the key's name, not later with a traceback.
def _backend(value: str) -> bool:
    text = value.strip()
    return text == "sqlite" or text.startswith(("postgresql://", "postgres://", "/", "~")) \
        or "dbname=" in text or "host=" in text  # libpq's key=value form


def _machine_name(value: str) -> bool:
    return len(value) <= 64 and all(c.isalnum() or c in "-_." for c in value)


CHECKS: dict[str, tuple[Any, str]] = {
    "queue.backend": (_backend, '"sqlite", a PostgreSQL DSN (postgresql://... or '
                      "key=value), or the absolute path of a file holding one"),
    "queue.machine_name": (_machine_name, "up to 64 letters, digits, '-', '_' or '.' "
                           "(empty: the host name)"),
    "queue.lease_seconds": _range(5, 3600, "seconds"),
    "queue.scan_seconds": _range(0.5, 3600, "seconds"),
    "engine.device": (lambda v: v in ("cpu", "cuda", "auto"), "one of cpu, cuda, auto"),
    "engine.compute_type": (lambda v: v in COMPUTE_TYPES, "one of " + ", ".join(COMPUTE_TYPES)),
    "engine.model": (lambda v: bool(v.strip()), "a non-empty model name or folder"),
    "engine.threads": _range(0, 256, "0 = automatic", integer=True),
    "engine.beam_size": _range(1, 20, "", integer=True),
    "engine.first_pass_beam": _range(1, 20, "", integer=True),
    "engine.languages": (
        lambda v: len(v) <= 20 and all(_is_language(c) for c in v),
        "a list of up to 20 language codes such as \"en\" or \"fr\"",
    ),
    "engine.speakers": (speaker_choice.is_valid, speaker_choice.ALLOWED),
    "engine.batch_size": _range(0, 64, "0 = chosen from the memory available", integer=True),
    "engine.idle_unload_seconds": _range(0, 7 * _DAY, "seconds"),
    "engine.chunk_seconds_low": _range(10, 3600, "seconds"),
    "engine.chunk_seconds_mid": _range(10, 3600, "seconds"),
    "engine.chunk_seconds_high": _range(10, 3600, "seconds"),
    "engine.chunk_low_below_gb": _range(0, 4096, "GB"),
    "engine.chunk_mid_below_gb": _range(0, 4096, "GB"),
    "inbox.settle_seconds": _range(0, 3600, "seconds"),
    "inbox.scan_interval_seconds": _range(0.1, _DAY, "seconds"),
    "jobs.max_attempts": _range(1, 100, "", integer=True),
    "jobs.retry_backoff_seconds": _range(0, _DAY, "seconds"),
    "jobs.after": (lambda v: v in AFTER_CHOICES, "one of " + ", ".join(AFTER_CHOICES)),
    "jobs.stall_seconds": _range(1, _DAY, "seconds"),
    "outputs.formats": (
        lambda v: bool(v) and all(f in OUTPUT_FORMATS for f in v),
        "a non-empty list drawn from " + ", ".join(OUTPUT_FORMATS),
    ),
    "engine.language": (lambda v: v == "" or _is_language(v),
                        "a language code such as en, de, fr (empty: detected)"),
    "hooks.on_done": (lambda v: _command(v), _COMMAND_RULE),
    "hooks.on_failed": (lambda v: _command(v), _COMMAND_RULE),
    "hooks.timeout_seconds": _range(1, _DAY, "seconds"),
    "hooks.max_output_bytes": _range(0, 16 * 1024 * 1024, "bytes", integer=True),
    "memory.warning_percent": (lambda v: 0 < v <= 100, "a percentage above 0 and up to 100"),
    "memory.critical_percent": (lambda v: 0 < v <= 100, "a percentage above 0 and up to 100"),
    "memory.hysteresis_percent": (lambda v: 0 <= v < 50, "a number from 0 to 50"),
    "memory.interval_seconds": _range(0.1, 3600, "seconds"),
    "memory.reminder_minutes": _range(0.1, 7 * 24 * 60, "minutes"),
    "memory.model_memory_factor": _range(0.1, 100, "a factor"),
    "memory.model_memory_margin_mb": _range(0, 1024 * 1024, "MB"),
    "updates.check_interval_hours": _range(0, 24 * 365, "hours; 0 turns checks off"),
    "updates.channel": (lambda v: v in CHANNELS, "one of " + ", ".join(CHANNELS)),
    "updates.api_url": (
        lambda v: v.startswith(("https://", "http://")),
        "an http(s) URL",
    ),
    "updates.repo": (
        lambda v: v.count("/") == 1 and all(p and p not in (".", "..") for p in v.split("/")),
        "OWNER/NAME",
    ),
    "updates.max_download_mb": _range(1, 10240, "MB"),
    "updates.public_keys": (
        lambda v: len(v) <= 8 and _minisign_keys(v),
        "up to 8 minisign public keys (\"RW...\", the second line of a minisign .pub file)",
    ),
    "updates.health_timeout_seconds": _range(5, 3600, "seconds"),
    "api.max_connections": _range(1, 10000, "", integer=True),
    "api.request_timeout_seconds": _range(0.1, 3600, "seconds"),
    "api.max_body_bytes": (lambda v: 1024 <= v <= 16 * 1024 * 1024, "bytes from 1024 to 16 MiB"),
    "api.transport": (lambda v: v in ("unix", "tcp"), "one of unix, tcp"),
    "tray.poll_seconds": _range(0.2, 600, "seconds"),
}


def _minisign_keys(values: list[str]) -> bool:
    from voxtrald.updates.keys import parse_keys  # cryptography only when keys are set
    from voxtrald.updates.minisign import SignatureError

    try:
        parse_keys(values)
    except SignatureError:
        return False
    return True
