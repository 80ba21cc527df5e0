"""Asking GitHub (or a GitHub Enterprise / test server) for the newest release.

One request per check, conditional on the last ETag (a 304 does not count
against the rate limit), with the rate-limit headers read on every answer so
the caller can stay silent until GitHub wants to hear from us again.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import requests

from voxtrald.updates import net
from voxtrald.version import APP_NAME

MAX_API_BYTES = 2 * 1024 * 1024
API_DEADLINE = 30.0  # whole answer, however slowly it trickles in
LIST_PAGE = 20
MAX_WAIT = 24 * 3600.0  # never believe a server asking for silence beyond a day
DEFAULT_BACKOFF = 60.0  # a 429 that says nothing about when


@dataclass
class Fetched:
    not_modified: bool
    data: Any
    etag: str | None
    retry_at: float | None  # set when the quota is spent even though this answer was fine


def retry_time(status: int, headers: Any, now: float) -> float | None:
    """When GitHub allows the next request after this answer, or None if it does not say.

    Follows GitHub's documented order: `retry-after` first, then a spent quota
    (`x-ratelimit-remaining: 0`) with `x-ratelimit-reset`; a bare 429 waits a
    minute. Capped at a day so a broken header cannot silence the checker forever.
    """
    wait_until: float | None = None
    after = (headers.get("retry-after") or "").strip()
    if after:
        seconds = net.parse_count(after)
        if seconds is not None:
            wait_until = now + min(seconds, MAX_WAIT)
        else:
            try:
                wait_until = parsedate_to_datetime(after).timestamp()
            except (TypeError, ValueError, IndexError, OverflowError):
                wait_until = None
    remaining = (headers.get("x-ratelimit-remaining") or "").strip()
    reset = net.parse_count(headers.get("x-ratelimit-reset"))
    if wait_until is None and remaining == "0":
        wait_until = float(reset) if reset is not None else now + DEFAULT_BACKOFF
    if wait_until is None and status == 429:
        wait_until = now + DEFAULT_BACKOFF
    if wait_until is None:
        return None
    return min(max(wait_until, now), now + MAX_WAIT)


class GitHubReleases:
    def __init__(
        self,
        api_url: str,
        repo: str,
        token: str,
        user_agent_version: str,
        timeout: tuple[float, float] = net.DEFAULT_TIMEOUT,
        verify: bool | str = True,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.repo = repo
        self.token = token
        self.timeout = timeout
        self.verify = verify
        self.policy = net.UrlPolicy(self.api_url)
        self.user_agent = f"{APP_NAME.replace(' ', '-')}/{user_agent_version} (voxtrald)"

    def url(self, channel: str) -> str:
        base = f"{self.api_url}/repos/{self.repo}/releases"
        return f"{base}?per_page={LIST_PAGE}" if channel == "prerelease" else f"{base}/latest"

    def fetch(self, channel: str, etag: str | None = None) -> Fetched:
        """The release JSON (a list on the prerelease channel), or FetchError."""
        url = self.url(channel)
        headers = {
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
            "User-Agent": self.user_agent,
        }
        if etag:
            headers["If-None-Match"] = etag
        # The deadline covers redirects and the body, however slowly either comes.
        deadline = time.monotonic() + API_DEADLINE
        with requests.Session() as session:
            resp = net.open_url(
                session, url, policy=self.policy, headers=headers, token=self.token,
                timeout=self.timeout, verify=self.verify,
            )
            with resp:
                return self._answer(resp, url, deadline)

    def _answer(self, resp: requests.Response, url: str, deadline: float) -> Fetched:
        now = time.time()
        status = resp.status_code
        wait = retry_time(status, resp.headers, now)
        if status == 304:
            return Fetched(True, None, resp.headers.get("ETag") or None, wait)
        if status in (403, 429) and wait is not None:
            raise net.FetchError(
                f"GitHub rate limit reached (HTTP {status}); not asking again before "
                + time.strftime("%H:%M", time.localtime(wait)),
                retry_at=wait,
            )
        if status == 404:
            raise net.FetchError(f"no published release found for {self.repo} (HTTP 404)")
        if status in (401, 403):
            raise net.FetchError(
                f"GitHub refused the request (HTTP {status}); check the updates token"
            )
        if status >= 500:
            raise net.FetchError(f"GitHub is having trouble (HTTP {status}); will retry later")
        if status != 200:
            raise net.FetchError(f"unexpected answer from GitHub (HTTP {status})")
        body = net.read_capped(resp, MAX_API_BYTES, deadline, url)
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise net.FetchError("GitHub's answer was not valid JSON") from None
        etag = resp.headers.get("ETag")
        return Fetched(False, data, etag if etag and len(etag) < 200 else None, wait)
