"""The update checker: when to ask, what to remember, what to tell.

In the spirit of pip's self-check: one small JSON state file, and every
network problem becomes "no news" with a one-line `error`, never an
exception for the daemon. Sparkle's skip rule for dismissals: skipping 1.2.0
silences 1.2.0 only. Requests are spaced by the state file rather than by
process lifetime, so a daemon restarted in a loop does not hammer GitHub, and
a rate limit is obeyed across restarts.
"""

from __future__ import annotations

import logging
import math
import os
import random
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from voxtrald.bodies import Download, StagedUpdate, UpdateCheck, UpdateSummary
from voxtrald.config import UpdatesConfig
from voxtrald.events import EventLog
from voxtrald.states import EventType
from voxtrald.updates import net, release, sanitize, state
from voxtrald.updates.download import Downloader, DownloadError
from voxtrald.updates.github import MAX_WAIT, GitHubReleases
from voxtrald.updates.keys import trusted_keys
from voxtrald.updates.versions import InvalidTag, canonical, parse_tag, same_version

log = logging.getLogger("voxtrald.updates")

RETRY_AFTER_FAILURE = 3600.0  # an offline start-up learns of updates within the hour
STARTUP_MIN_GAP = 3600.0  # no start-up check if one ran this recently (restart loops)
MAX_SLEEP = 300.0  # re-read the wall clock at least this often (suspend, clock jumps)
INITIAL_DELAY_RANGE = (3.0, 10.0)



def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def resolve_token(configured: str) -> str:
    """The config's token, else GITHUB_TOKEN; a token with odd characters is not sent."""
    token = (configured or os.environ.get("GITHUB_TOKEN", "")).strip()
    if token and not all(33 <= ord(ch) < 127 for ch in token):
        log.warning("ignoring the GitHub token: it contains characters a token cannot have")
        return ""
    return token


class UpdateChecker:
    def __init__(
        self,
        cfg: UpdatesConfig,
        state_dir: Path,
        events: EventLog,
        current_version: str,
        initial_delay: float | None = None,
        *,
        timeout: tuple[float, float] = net.DEFAULT_TIMEOUT,
        verify: bool | str = True,
        failed_versions: Callable[[], dict[str, str]] | None = None,
        can_apply: Callable[[], bool] | None = None,
    ) -> None:
        self.cfg = cfg
        # Versions that were applied and rolled back, with why: never offered again.
        self._failed_versions = failed_versions or dict
        # Whether this install can apply an update itself (a side-by-side install).
        self._can_apply = can_apply or (lambda: False)
        self.current_version = current_version
        self.events = events
        self.initial_delay = (
            random.uniform(*INITIAL_DELAY_RANGE) if initial_delay is None else initial_delay
        )
        self._github = GitHubReleases(
            cfg.api_url, cfg.repo, resolve_token(cfg.token), current_version,
            timeout=timeout, verify=verify,
        )
        self._downloader = Downloader(
            state_dir, self._github.policy, self._github.user_agent,
            max_bytes=int(cfg.max_download_mb * 1024 * 1024), keys=trusted_keys(cfg.public_keys),
            timeout=timeout, verify=verify,
        )
        self._path = state_dir / state.STATE_FILE
        self._source = f"{self._github.api_url}/repos/{cfg.repo}"
        self._lock = threading.RLock()  # guards _state
        self._net_lock = threading.Lock()  # one check at a time; a second caller shares it
        self._download_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._state = state.load(self._path)
        if self._state.get("source") != self._source:
            # Another repo or server: its cached release and ETag mean nothing here.
            for key in ("release", "etag", "etag_url", "error", "checked_at", "last_attempt"):
                self._state.pop(key, None)
            self._state["source"] = self._source

    # --- scheduling -------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None or self.cfg.check_interval_hours <= 0:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="update-checker", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Ask the thread to end; a request in flight is abandoned (the thread is a daemon)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=1.0)
            self._thread = None

    def _run(self) -> None:
        if self._stop.wait(self.initial_delay):
            return
        interval = self.cfg.check_interval_hours * 3600.0
        startup = True
        while not self._stop.is_set():
            due = self._next_due(interval, startup)
            startup = False  # the start-up rule decides the first check only
            now = time.time()
            if now >= due:
                try:
                    self._refresh()
                except Exception:  # the thread must outlive any surprise
                    log.exception("update check crashed")
                    if self._stop.wait(RETRY_AFTER_FAILURE):
                        return
                continue
            if self._stop.wait(min(due - now, MAX_SLEEP)):
                return

    def _next_due(self, interval: float, startup: bool) -> float:
        with self._lock:
            last = self._state.get("last_attempt")
            failed = bool(self._state.get("error"))
            not_before = self._state.get("next_request_at") or 0.0
        now = time.time()
        # Belt and braces behind state.load: a wait is finite and at most a day ahead.
        not_before = _clamp(not_before, now)
        if not isinstance(last, int | float) or not math.isfinite(last):
            return not_before
        last = min(last, now)  # the clock went back: do not wait for the future
        gap = min(interval, STARTUP_MIN_GAP) if startup else interval
        if failed:
            gap = min(gap, RETRY_AFTER_FAILURE)
        return max(last + gap, float(not_before))

    # --- public operations --------------------------------------------------------------

    def check(self, refresh: bool = False) -> UpdateCheck:
        """The cached result, or (refresh) a new one; never raises for network trouble."""
        if refresh:
            self._refresh()
        return self._result()

    def require_signed_after(self, when: int | None) -> None:
        """Refuse releases signed before `when` (the installed release's signing time)."""
        self._downloader.not_before = when

    def dismiss(self, version: str) -> UpdateCheck:
        """Skip `version` for good (InvalidTag if it is not a version); newer ones still show."""
        try:
            normalized = canonical(parse_tag(version))
        except InvalidTag as exc:
            raise InvalidTag(f"not a release version: {exc}") from None
        with self._lock:
            self._state["dismissed"] = state.remember(self._state["dismissed"], normalized)
            self._save()
        log.info("update %s dismissed", normalized)
        return self._result()

    def download(self, retry_rolled_back: bool = False) -> Download:
        """Stage the offered update; {"staged": bool, ...} with `error` and `code` on failure.

        A version rolled back here is not offered, so not staged either, unless
        `retry_rolled_back` (an explicit request to try it again).
        """
        with self._download_lock:
            with self._lock:
                needs_check = self._state.get("release") is None or self._state.get("error")
            if needs_check:
                self._refresh()
            result = self._result()
            if result["error"]:
                return _failed("check_failed", result["error"])
            retry = retry_rolled_back and result["rolled_back"]
            if not result["update_available"] and not retry:
                return _failed("no_update", f"no update to download: {self.current_version} is "
                               "the newest release")
            with self._lock:
                cached = self._state.get("release")
            if not isinstance(cached, dict):
                return _failed("check_failed", "no release is known yet; check for updates first")
            try:
                manifest = self._downloader.stage(cached, self.current_version)
            except DownloadError as exc:
                log.warning("update download failed: %s", exc)
                return _failed(exc.code, str(exc))
            except net.FetchError as exc:
                log.warning("update download failed: %s", exc.message)
                return _failed("download_failed", exc.message)
            except OSError as exc:
                log.warning("update staging failed: %s", exc)
                return _failed("staging_failed", f"cannot write the staged update: {exc}")
            except ValueError as exc:
                # Backstop, as in _refresh: an answer to the user, not a 500.
                log.warning("update download failed: %r", exc)
                return _failed("download_failed", "the release's download could not be used "
                               f"({sanitize.clean_text(str(exc), 200) or type(exc).__name__})")
            return Download(staged=True, error=None, code=None, **manifest)

    def staged(self) -> StagedUpdate | None:
        """The intact staged copy of the offered version (manifest + `path`), if any."""
        version = self._result()["latest_version"]
        return self._downloader.staged(version) if version else None

    def staged_dir(self) -> Path:
        """Where verified downloads are staged, one `X.Y.Z/` folder per version."""
        return self._downloader.updates_dir

    def summary(self) -> UpdateSummary | None:
        """The few fields /api/status carries; None until a check has been tried."""
        result = self._result()
        if result["checked_at"] is None and result["error"] is None:
            return None
        return UpdateSummary(
            update_available=result["update_available"],
            current_version=result["current_version"],
            latest_version=result["latest_version"], release_url=result["release_url"],
            dismissed=result["dismissed"], error=result["error"],
            rolled_back=result["rolled_back"], can_apply=result["can_apply"],
        )

    # --- internals --------------------------------------------------------------------

    def _refresh(self) -> None:
        with self._net_lock:
            now = time.time()
            with self._lock:
                not_before = _clamp(self._state.get("next_request_at") or 0.0, now)
                if now < not_before:
                    log.info("update check skipped: GitHub asked us to wait until %s",
                             _iso(not_before))
                    return
                url = self._github.url(self.cfg.channel)
                have_release = self._state.get("release") is not None
                etag = self._state.get("etag") if self._state.get("etag_url") == url else None
            try:
                fetched = self._github.fetch(self.cfg.channel, etag if have_release else None)
                if fetched.not_modified:
                    with self._lock:
                        cached = self._state.get("release")
                else:
                    raw = fetched.data
                    if self.cfg.channel == "prerelease":
                        raw = release.pick_release(raw, self.cfg.channel)
                    cached = release.normalize_release(raw) if raw is not None else None
            except net.FetchError as exc:
                log.warning("update check failed: %s", exc.message)
                self._record(now, error=exc.message, not_before=exc.retry_at)
                return
            except release.BadRelease as exc:
                log.warning("update check failed: %s", exc)
                self._record(now, error=f"GitHub's answer was not a release: {exc}")
                return
            except ValueError as exc:
                # Backstop for parsing trouble nobody foresaw: without it the
                # exception would reach the API as a 500 (or end a background
                # cycle) with no attempt recorded, so nothing would space retries.
                log.warning("update check failed: %r", exc)
                self._record(now, error="GitHub's answer could not be used "
                             f"({sanitize.clean_text(str(exc), 200) or type(exc).__name__})")
                return
            if cached is not None and cached.get("invalid_tag"):
                log.warning("latest release tag %r ignored: %s", cached["tag"],
                            cached["invalid_tag"])
            self._record(now, release_=cached, etag=fetched.etag or etag, url=url,
                         not_before=fetched.retry_at)
        self._announce()

    def _record(
        self,
        now: float,
        *,
        error: str | None = None,
        not_before: float | None = None,
        release_: dict[str, Any] | None = None,
        etag: str | None = None,
        url: str | None = None,
    ) -> None:
        with self._lock:
            self._state["last_attempt"] = now
            self._state["checked_at"] = _iso(now)
            self._state["error"] = error
            self._state["next_request_at"] = not_before
            if error is None:
                self._state["release"] = release_
                self._state["etag"] = etag
                self._state["etag_url"] = url
            self._save()

    def _announce(self) -> None:
        """Emit update_available once per newly seen version, never for a dismissed one."""
        result = self._result()
        version = result["latest_version"]
        if not result["update_available"] or result["dismissed"] or not version:
            return
        with self._lock:
            if version in self._state["announced"]:
                return
            self._state["announced"] = state.remember(self._state["announced"], version)
            self._save()
        log.info("update available: %s", version)
        self.events.emit(
            EventType.UPDATE_AVAILABLE,
            version=version,
            release_url=result["release_url"],
            release_name=result["release_name"],
        )

    def _result(self) -> UpdateCheck:
        with self._lock:
            error = self._state.get("error")
            cached = None if error else self._state.get("release")
            try:
                result = release.evaluate(
                    cached, self.current_version, self.cfg.channel, self._state["dismissed"]
                )
            except (ValueError, TypeError, KeyError, AttributeError):
                # Only a tampered state file gets here; forget its release, keep going.
                log.warning("cached release in %s is unreadable; dropping it", self._path)
                self._state["release"] = None
                result = release.evaluate(None, self.current_version, self.cfg.channel, [])
            if error:
                result["error"] = error
            result["checked_at"] = self._state.get("checked_at")
            result["channel"] = self.cfg.channel
        latest = result["latest_version"] or ""
        reason = next((why for failed, why in self._failed_versions().items()
                       if latest and same_version(failed, latest)), None)
        result["rolled_back"] = reason is not None
        result["rolled_back_reason"] = reason
        if reason is not None:
            result["update_available"] = False  # installed once, failed, put back: not again
        result["can_apply"] = bool(result["update_available"] and self._can_apply())
        return result

    def _save(self) -> None:
        try:
            state.save(self._path, self._state)
        except OSError as exc:
            log.warning("cannot save update state to %s: %s", self._path, exc)


def _clamp(when: object, now: float) -> float:
    """A wait-until time as a float no further ahead than GitHub may ask (a day)."""
    if isinstance(when, bool) or not isinstance(when, int | float) or not math.isfinite(when):
        return 0.0
    return min(float(when), now + MAX_WAIT)


def _failed(code: str, message: str) -> Download:
    return Download(staged=False, error=message, code=code)
