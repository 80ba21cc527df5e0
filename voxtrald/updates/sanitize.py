"""Making release text safe to show: it is written by whoever controls the repo.

A release name or body reaches the API, a terminal (where escape sequences
could rewrite the screen) and a desktop notification (where a bidi override
could disguise a name). So control and direction-formatting characters are
dropped, lengths are capped, and a link must be a plain https URL or nothing.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import urlsplit

MAX_NAME = 200
MAX_NOTES = 10_000
MAX_URL = 2048

# Bidi embeddings/overrides/isolates: legitimate text never needs them in a title.
_BIDI = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))}


def clean_text(value: object, limit: int, multiline: bool = False) -> str:
    """Printable text, at most `limit` characters; keeps newlines only if `multiline`."""
    if not isinstance(value, str):
        return ""
    text = value.replace("\r\n", "\n").replace("\r", "\n")
    keep = {"\n", "\t"} if multiline else set()
    out = []
    for ch in text:
        if ch in keep:
            out.append(ch)
        elif ch in _BIDI or unicodedata.category(ch) in ("Cc", "Cs", "Co"):
            if ch in ("\n", "\t"):
                out.append(" ")
        else:
            out.append(ch)
    cleaned = "".join(out).strip()
    if not multiline:
        cleaned = " ".join(cleaned.split())
    if len(cleaned) > limit:
        cleaned = cleaned[: max(0, limit - 1)].rstrip() + "…"
    return cleaned


def clean_https_url(value: object) -> str | None:
    """The URL if it is a well-formed https link with a host, else None."""
    if not isinstance(value, str) or not value or len(value) > MAX_URL:
        return None
    if any(ch.isspace() or unicodedata.category(ch) == "Cc" or ch in _BIDI for ch in value):
        return None
    try:
        parts = urlsplit(value)
        port = parts.port  # raises on a malformed port
    except ValueError:
        return None
    del port
    if parts.scheme != "https" or not parts.hostname or parts.username or parts.password:
        return None
    return value


def clean_sha256(value: object) -> str | None:
    """A lower-case 64-hex SHA-256, from `abc…` or GitHub's `sha256:abc…`, else None."""
    if not isinstance(value, str):
        return None
    text = value.strip().lower()
    if text.startswith("sha256:"):
        text = text[len("sha256:"):]
    if len(text) == 64 and all(c in "0123456789abcdef" for c in text):
        return text
    return None
