"""HTTP for the updater: bounded in time and size, https only, errors as one line.

Redirects are followed by hand rather than by requests, so every hop is
checked against the URL policy (an https page must not be able to send us to
plain http for the code we are about to stage) and the GitHub token is only
ever sent to the API's own origin. Every failure becomes FetchError with a
message fit for a user; nothing here lets a traceback out.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from urllib.parse import urljoin, urlsplit

import requests
import urllib3.exceptions

DEFAULT_TIMEOUT = (5.0, 5.0)  # (connect, read) seconds
MAX_REDIRECTS = 5
READ_SIZE = 64 * 1024
# More digits than any real count or delay; int() of a huge string is slow
# and, past Python's digit limit, raises.
_MAX_DIGITS = 18
_REDIRECTS = (301, 302, 303, 307, 308)


class FetchError(Exception):
    """A request that brought no usable answer; `retry_at` (epoch s) when told to wait."""

    def __init__(self, message: str, retry_at: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retry_at = retry_at


class TooLarge(FetchError):
    """The answer went past its size cap (declared or actual)."""


def parse_count(text: str | None) -> int | None:
    """A header's non-negative integer (ASCII digits only), else None.

    `str.isdigit()` is true for characters such as '²' that int() refuses, so
    a header like `Retry-After: ²` would raise ValueError deep in a check;
    absurdly long numbers are clamped instead of parsed.
    """
    if text is None:
        return None
    text = text.strip()
    if not re.fullmatch(r"[0-9]+", text):
        return None
    if len(text) > _MAX_DIGITS:
        return 10**_MAX_DIGITS
    return int(text)


def host_of(url: str) -> str:
    """The host to name in a message; never raises, whatever the URL looks like."""
    try:
        return urlsplit(url).hostname or url[:200]
    except ValueError:
        return url[:200]


def origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    port = parts.port or {"https": 443, "http": 80}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), port


class UrlPolicy:
    """Which URLs we fetch: https anywhere, plain http only at an http `api_url`'s origin.

    A user (or a test) who points `api_url` at a plain-http server has chosen
    to trust that one server; that choice must not widen to any other host,
    so a redirect from there to http elsewhere is still refused.
    """

    def __init__(self, api_url: str) -> None:
        self.api_origin = origin(api_url)

    def allowed(self, url: str) -> bool:
        try:
            scheme, host, _port = found = origin(url)
        except ValueError:
            return False
        if not host:
            return False
        if scheme == "https":
            return True
        return scheme == "http" and found == self.api_origin


def describe(exc: Exception, url: str) -> str:
    """One readable line for a requests failure, or a urllib3 one while reading a body."""
    host = host_of(url)
    if isinstance(exc, requests.exceptions.SSLError | urllib3.exceptions.SSLError):
        return f"secure connection to {host} failed (certificate or TLS error)"
    if isinstance(exc, requests.Timeout | urllib3.exceptions.TimeoutError):
        return f"{host} did not answer in time"
    if isinstance(exc, requests.ConnectionError):
        return f"cannot reach {host} (offline, DNS failure or connection refused)"
    if isinstance(exc, urllib3.exceptions.ProtocolError | OSError):
        return f"the connection to {host} broke off before the answer was complete"
    if isinstance(exc, urllib3.exceptions.DecodeError):
        return f"the answer from {host} could not be decompressed"
    return f"request to {host} failed ({type(exc).__name__})"


def open_url(
    session: requests.Session,
    url: str,
    *,
    policy: UrlPolicy,
    headers: dict[str, str],
    token: str = "",
    timeout: tuple[float, float] = DEFAULT_TIMEOUT,
    verify: bool | str = True,
) -> requests.Response:
    """GET `url` as a stream, following allowed redirects; the caller closes the response."""
    current = url
    for _hop in range(MAX_REDIRECTS + 1):
        if not policy.allowed(current):
            raise FetchError(f"refused to fetch {current[:200]!r}: only https is allowed")
        send = dict(headers)
        if token and origin(current) == policy.api_origin:
            send["Authorization"] = f"Bearer {token}"
        try:
            resp = session.get(
                current, headers=send, timeout=timeout, stream=True,
                allow_redirects=False, verify=verify,
            )
        except requests.RequestException as exc:
            raise FetchError(describe(exc, current)) from None
        except ValueError:
            # Our URL passed the policy and requests wraps its own URL errors
            # (InvalidURL), so this is the answer: requests parses a redirect's
            # Location even when not following it, and "https://[::1" raises.
            raise FetchError(
                f"{host_of(current)} answered with an address that is not a URL"
            ) from None
        if resp.status_code not in _REDIRECTS:
            return resp
        location = resp.headers.get("Location", "")
        resp.close()
        if not location:
            raise FetchError(f"redirect without a Location from {urlsplit(current).hostname}")
        try:
            current = urljoin(current, location)
        except ValueError:  # e.g. "https://[::1": urljoin raises instead of refusing
            raise FetchError(
                f"{host_of(current)} redirected to an address that is not a URL"
            ) from None
    raise FetchError("too many redirects")


def iter_capped(
    resp: requests.Response, limit: int, deadline: float, url: str
) -> Iterator[bytes]:
    """The body as it arrives, stopping with FetchError past `limit` bytes or `deadline`.

    Reads with `read1`, which returns whatever has arrived instead of waiting
    for a full buffer. A fixed-size read (`iter_content(64 KiB)`) blocks until
    the buffer fills, so a server sending one byte every few seconds would
    never trip the read timeout, the deadline would never be looked at, and
    the checker's network lock would stay held as long as the server liked.
    Here every read returns within the read timeout and the deadline is
    checked after each one.
    """
    host = host_of(url)
    declared = parse_count(resp.headers.get("Content-Length"))
    if declared is not None and declared > limit:
        raise TooLarge(f"answer from {host} is too large")
    total = 0
    try:
        while True:
            chunk = resp.raw.read1(READ_SIZE, decode_content=True)
            if not chunk:
                return
            total += len(chunk)
            if total > limit:
                raise TooLarge(f"answer from {host} is too large")
            if time.monotonic() > deadline:
                raise FetchError(f"{host} is sending too slowly")
            yield chunk
    except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
        raise FetchError(describe(exc, url)) from None


def read_capped(resp: requests.Response, limit: int, deadline: float, url: str) -> bytes:
    return b"".join(iter_capped(resp, limit, deadline, url))
