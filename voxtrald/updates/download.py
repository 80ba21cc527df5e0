"""Download a release's wheel, verify it, and stage it for installing later.

Nothing unverified is ever staged: the wheel's SHA-256 must match the digest
GitHub publishes for the asset, or a line of the release's SHA256SUMS file,
and a release with neither is refused. The download goes into a temporary
folder beside the target and is renamed to `updates/X.Y.Z/` only once it is
complete and verified, so an interrupted or failed download leaves nothing
that looks staged. Layout, for whatever applies it:

    STATE/updates/X.Y.Z/voxtral-X.Y.Z-py3-none-any.whl
    STATE/updates/X.Y.Z/manifest.json  {version, file, sha256, size, source_url, ...}
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import requests
from packaging.version import Version

from voxtrald.events import utc_now_iso
from voxtrald.updates import net
from voxtrald.updates.release import choose_wheel, parse_sha256sums
from voxtrald.updates.versions import is_newer

log = logging.getLogger("voxtrald.updates")

MANIFEST = "manifest.json"
SUMS_NAMES = ("SHA256SUMS", "SHA256SUMS.txt", "sha256sums.txt")
MAX_SUMS_BYTES = 64 * 1024
DOWNLOAD_DEADLINE = 15 * 60.0  # the whole wheel, redirects included
SUMS_DEADLINE = 60.0
STAGING_PREFIX = ".staging-"


class DownloadError(Exception):
    """Why nothing was staged, in one line for the user, with a code for scripts."""

    def __init__(self, message: str, code: str = "download_failed") -> None:
        super().__init__(message)
        self.code = code


class Downloader:
    def __init__(
        self,
        state_dir: Path,
        policy: net.UrlPolicy,
        user_agent: str,
        max_bytes: int,
        timeout: tuple[float, float] = net.DEFAULT_TIMEOUT,
        verify: bool | str = True,
    ) -> None:
        self.updates_dir = state_dir / "updates"
        self.policy = policy
        self.headers = {"User-Agent": user_agent, "Accept": "application/octet-stream"}
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.verify = verify

    def stage(self, release: dict[str, Any], current: str) -> dict[str, Any]:
        """Stage the release's wheel and return its manifest (plus `path`), or DownloadError."""
        version = release.get("version")
        if not version:
            raise DownloadError("the latest release has no usable version", "no_update")
        if not is_newer(Version(version), current):
            raise DownloadError(f"{version} is not newer than the installed {current}; "
                                "nothing to stage", "no_update")
        assets = release.get("assets") or []
        if not assets:
            raise DownloadError(f"release {version} has no files to download", "no_asset")
        wheel = choose_wheel(assets, version)
        if wheel is None:
            raise DownloadError(f"release {version} has no voxtral wheel to download", "no_asset")
        staged = self.staged(version)
        if staged is not None and wheel.get("sha256") in (None, staged["sha256"]):
            return staged
        if wheel["size"] is not None and wheel["size"] > self.max_bytes:
            raise DownloadError(
                f"{wheel['name']} is {wheel['size'] // (1024 * 1024)} MB, above the "
                f"{self.max_bytes // (1024 * 1024)} MB download limit", "too_large"
            )
        expected = wheel.get("sha256") or self._sum_from_file(assets, wheel["name"], version)
        self.updates_dir.mkdir(parents=True, exist_ok=True)
        self._sweep_leftovers()
        tmp = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=self.updates_dir))
        try:
            digest, size = self._fetch_to(wheel, tmp / wheel["name"])
            if digest != expected:
                raise DownloadError(
                    f"{wheel['name']} failed verification: its SHA-256 does not match the "
                    "published one; nothing was staged", "verification_failed"
                )
            manifest = {
                "version": version,
                "file": wheel["name"],
                "sha256": digest,
                "size": size,
                "source_url": wheel["url"],
                "release_url": release.get("html_url"),
                "staged_at": utc_now_iso(),
            }
            (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
            self._install(tmp, self.updates_dir / version)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        log.info("staged update %s (%s)", version, wheel["name"])
        return {**manifest, "path": str(self.updates_dir / version / wheel["name"])}

    def staged(self, version: str) -> dict[str, Any] | None:
        """The manifest of an already staged, intact copy of `version`, else None."""
        folder = self.updates_dir / version
        try:
            manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
            wheel = folder / manifest["file"]
            if Path(manifest["file"]).name != manifest["file"]:
                return None
            if _sha256_file(wheel) != manifest["sha256"]:
                return None
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return {**manifest, "path": str(wheel)}

    def _sum_from_file(self, assets: list[dict[str, Any]], filename: str, version: str) -> str:
        sums = next((a for a in assets if a["name"] in SUMS_NAMES), None)
        if sums is None:
            raise DownloadError(
                f"release {version} publishes no SHA-256 for {filename} (no digest, no "
                "SHA256SUMS); refusing to install unverified code", "unverifiable"
            )
        deadline = time.monotonic() + SUMS_DEADLINE
        with requests.Session() as session:
            resp = net.open_url(session, sums["url"], policy=self.policy, headers=self.headers,
                                timeout=self.timeout, verify=self.verify)
            with resp:
                if resp.status_code != 200:
                    raise DownloadError(f"cannot fetch SHA256SUMS (HTTP {resp.status_code})")
                text = net.read_capped(resp, MAX_SUMS_BYTES, deadline, sums["url"])
        found = parse_sha256sums(text.decode("utf-8", "replace"), filename)
        if found is None:
            raise DownloadError(
                f"SHA256SUMS of release {version} does not list {filename}", "unverifiable"
            )
        return found

    def _fetch_to(self, wheel: dict[str, Any], target: Path) -> tuple[str, int]:
        limit = self.max_bytes if wheel["size"] is None else min(self.max_bytes, wheel["size"])
        hasher = hashlib.sha256()
        size = 0
        deadline = time.monotonic() + DOWNLOAD_DEADLINE
        with requests.Session() as session:
            resp = net.open_url(session, wheel["url"], policy=self.policy, headers=self.headers,
                                timeout=self.timeout, verify=self.verify)
            with resp, open(target, "wb") as out:
                if resp.status_code != 200:
                    raise DownloadError(
                        f"download of {wheel['name']} failed (HTTP {resp.status_code})"
                    )
                try:
                    for chunk in net.iter_capped(resp, limit, deadline, wheel["url"]):
                        hasher.update(chunk)
                        out.write(chunk)
                        size += len(chunk)
                except net.TooLarge:
                    raise DownloadError(
                        f"{wheel['name']} is larger than its stated size or the download "
                        "limit; nothing was staged", "too_large"
                    ) from None
                out.flush()
                os.fsync(out.fileno())
        if wheel["size"] is not None and size != wheel["size"]:
            raise DownloadError(
                f"{wheel['name']} arrived incomplete ({size} of {wheel['size']} bytes)"
            )
        return hasher.hexdigest(), size

    def _install(self, tmp: Path, final: Path) -> None:
        """Swap the verified folder into place; a stale copy is moved aside first."""
        if final.exists():
            old = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=self.updates_dir))
            os.replace(final, old / "old")
            shutil.rmtree(old, ignore_errors=True)
        os.replace(tmp, final)

    def _sweep_leftovers(self) -> None:
        """Remove temp folders of a download that a crash or kill interrupted."""
        for entry in self.updates_dir.glob(STAGING_PREFIX + "*"):
            with contextlib.suppress(OSError):
                shutil.rmtree(entry)


def _sha256_file(path: Path) -> str:
    hasher = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1024 * 1024), b""):
            hasher.update(block)
    return hasher.hexdigest()
