"""Untrusted text made safe to print: control characters shown, never obeyed.

A file name can hold a newline (which forges a log line) or an escape
sequence (which rewrites the user's terminal). Logs and human-readable
output show such characters as visible escapes (`\\n`, `\\x1b`) instead, so
what the user reads is what is there.
"""

from __future__ import annotations

import logging
import os
import unicodedata
from typing import Any

# Bidi embeddings, overrides and isolates can make a name read as another.
_BIDI = frozenset(chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)))
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _unsafe(ch: str) -> bool:
    return ch in _BIDI or unicodedata.category(ch) in ("Cc", "Cs")


def escape_controls(text: str) -> str:
    """`text` with every control, surrogate and bidi character as a visible escape."""
    if not any(_unsafe(ch) for ch in text):
        return text
    out = []
    for ch in text:
        if not _unsafe(ch):
            out.append(ch)
        elif ch in _NAMED:
            out.append(_NAMED[ch])
        elif ord(ch) < 0x100:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(f"\\u{ord(ch):04x}")
    return "".join(out)


def _safe_arg(value: Any) -> Any:
    if isinstance(value, str):
        return escape_controls(value)
    if isinstance(value, os.PathLike):
        return escape_controls(str(value))
    return value


class EscapingFilter(logging.Filter):
    """Escapes control characters in a record's arguments (file names, peer text).

    The message template is ours and may span lines on purpose; the values put
    into it come from outside and may not.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, dict):
            record.args = {k: _safe_arg(v) for k, v in record.args.items()}
        elif record.args:
            record.args = tuple(_safe_arg(a) for a in record.args)
        return True


def install(handler_owner: logging.Logger | None = None) -> None:
    """Put the filter on every handler of the root logger (or of `handler_owner`)."""
    for handler in (handler_owner or logging.getLogger()).handlers:
        if not any(isinstance(f, EscapingFilter) for f in handler.filters):
            handler.addFilter(EscapingFilter())
