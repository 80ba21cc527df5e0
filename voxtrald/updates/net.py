"""HTTP for the updater: bounded in time and size, https only, errors as one line.

Redirects are followed by hand rather than by requests, so every hop is
checked against the URL policy (an https page must not be able to send us to
plain http for the code we are about to stage) and the GitHub token is only
ever sent to the API's own origin. Every failure becomes FetchError with a
message fit for a user; nothing here lets a traceback out.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from urllib.parse import urljoin, urlsplit

import requests

DEFAULT_TIMEOUT = (5.0, 5.0)  # (connect, read) seconds
MAX_REDIRECTS = 5
_REDIRECTS = (301, 302, 303, 307, 308)


class FetchError(Exception):
    """A request that brought no usable answer; `retry_at` (epoch s) when told to wait."""

    def __init__(self, message: str, retry_at: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retry_at = retry_at


class TooLarge(FetchError):
    """The answer went past its size cap (declared or actual)."""


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


def describe(exc: requests.RequestException, url: str) -> str:
    """One readable line for a requests failure."""
    host = urlsplit(url).hostname or url
    if isinstance(exc, requests.exceptions.SSLError):
        return f"secure connection to {host} failed (certificate or TLS error)"
    if isinstance(exc, requests.Timeout):
        return f"{host} did not answer in time"
    if isinstance(exc, requests.ConnectionError):
        return f"cannot reach {host} (offline, DNS failure or connection refused)"
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
        if resp.status_code not in _REDIRECTS:
            return resp
        location = resp.headers.get("Location", "")
        resp.close()
        if not location:
            raise FetchError(f"redirect without a Location from {urlsplit(current).hostname}")
        current = urljoin(current, location)
    raise FetchError("too many redirects")


def iter_capped(
    resp: requests.Response, limit: int, deadline: float, url: str
) -> Iterator[bytes]:
    """The body in chunks, stopping with FetchError past `limit` bytes or `deadline`."""
    declared = resp.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise TooLarge(f"answer from {urlsplit(url).hostname} is too large")
    total = 0
    try:
        for chunk in resp.iter_content(chunk_size=64 * 1024):
            total += len(chunk)
            if total > limit:
                raise TooLarge(f"answer from {urlsplit(url).hostname} is too large")
            if time.monotonic() > deadline:
                raise FetchError(f"{urlsplit(url).hostname} is sending too slowly")
            yield chunk
    except requests.RequestException as exc:
        raise FetchError(describe(exc, url)) from None


def read_capped(resp: requests.Response, limit: int, deadline: float, url: str) -> bytes:
    return b"".join(iter_capped(resp, limit, deadline, url))
