"""Download a release's wheel, verify it, and stage it for installing later.

Nothing unverified is ever staged. A release is trusted only through its
signed manifest: `SHA256SUMS` (the version is in every file name) with a
minisign signature `SHA256SUMS.minisig` by a trusted key (`keys`). The wheel
must be listed there, its SHA-256 must match the listed one (and GitHub's
own digest, when it publishes one), and its metadata must name the release's
version. An unsigned release, another key's signature, or a manifest that
does not cover this wheel is refused. The download goes into a temporary
folder beside the target and is renamed to `updates/X.Y.Z/` only once it is
complete and verified, so an interrupted or failed download leaves nothing
that looks staged. Layout, for whatever applies it:

    STATE/updates/X.Y.Z/voxtral-X.Y.Z-py3-none-any.whl
    STATE/updates/X.Y.Z/SHA256SUMS, SHA256SUMS.minisig   (checked again before use)
    STATE/updates/X.Y.Z/manifest.json  {version, file, sha256, size, signed_by, ...}
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
import time
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import requests
from packaging.version import Version

from voxtrald.bodies import StagedUpdate
from voxtrald.events import utc_now_iso
from voxtrald.files import hashing
from voxtrald.files.private import NotPrivate, private_folder
from voxtrald.updates import minisign, net
from voxtrald.updates.release import choose_wheel, parse_sha256sums
from voxtrald.updates.versions import is_newer, same_version

log = logging.getLogger("voxtrald.updates")

MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
SIG = SUMS + ".minisig"
SUMS_NAMES = ("SHA256SUMS", "SHA256SUMS.txt", "sha256sums.txt")
MAX_SUMS_BYTES = 64 * 1024
DOWNLOAD_DEADLINE = 15 * 60.0  # the whole wheel, redirects included
SUMS_DEADLINE = 60.0
STAGING_PREFIX = ".staging-"
_METADATA_VERSION = re.compile(r"^Version:[ \t]*(\S+)[ \t]*$", re.MULTILINE)


class DownloadError(Exception):
    """Why nothing was staged, in one line for the user, with a code for scripts."""

    def __init__(self, message: str, code: str = "download_failed") -> None:
        super().__init__(message)
        self.code = code


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def signed_time(verified: minisign.Verified) -> int | None:
    """When the manifest was signed: the `timestamp` field of its trusted comment."""
    text = verified.field("timestamp")
    return int(text) if text is not None and text.isdigit() and len(text) <= 12 else None


def check_manifest(sums: bytes, signature: str, keys: Sequence[minisign.PublicKey],
                   version: str, filename: str, not_before: int | None = None
                   ) -> tuple[str, str]:
    """(sha256 of `filename`, signing key id) from a signed manifest, or DownloadError.

    `not_before` is when the installed version's release was signed: a release
    signed earlier is an old one offered as news (an attacker holding us on a
    vulnerable release while a newer one exists) and is refused.
    """
    try:
        verified = minisign.verify(sums, signature, keys)
    except minisign.SignatureError as exc:
        raise DownloadError(f"release {version} is not signed by a trusted key: {exc}; "
                            "nothing was staged", "bad_signature") from None
    signed_version = verified.field("version")
    if signed_version is not None and not same_version(signed_version, version):
        raise DownloadError(f"the signed manifest is for version {signed_version[:40]}, not "
                            f"{version}; nothing was staged", "bad_signature")
    if not_before is not None and (signed_time(verified) or 0) < not_before:
        raise DownloadError(f"release {version} was signed before the installed version's "
                            "release; an older release is not taken as an update, nothing "
                            "was staged", "stale_release")
    digest = parse_sha256sums(sums.decode("utf-8", "replace"), filename)
    if digest is None:
        raise DownloadError(f"the signed SHA256SUMS of release {version} does not list "
                            f"{filename}; nothing was staged", "unverifiable")
    return digest, verified.key_id


def wheel_version(path: Path) -> str | None:
    """The Version: line of a wheel's METADATA, None when it has none or is no wheel."""
    try:
        with zipfile.ZipFile(path) as zf:
            names = [n for n in zf.namelist()
                     if n.count("/") == 1 and n.endswith(".dist-info/METADATA")]
            if len(names) != 1:
                return None
            text = zf.read(names[0])[:256 * 1024].decode("utf-8", "replace")
    except (OSError, zipfile.BadZipFile, ValueError, RuntimeError):
        return None
    match = _METADATA_VERSION.search(text)
    return match.group(1) if match else None


class Downloader:
    def __init__(
        self,
        state_dir: Path,
        policy: net.UrlPolicy,
        user_agent: str,
        max_bytes: int,
        keys: Sequence[minisign.PublicKey],
        timeout: tuple[float, float] = net.DEFAULT_TIMEOUT,
        verify: bool | str = True,
    ) -> None:
        self.updates_dir = state_dir / "updates"
        self.policy = policy
        self.headers = {"User-Agent": user_agent, "Accept": "application/octet-stream"}
        self.max_bytes = max_bytes
        self.keys = list(keys)
        self.timeout = timeout
        self.verify = verify
        #: When the installed version's release was signed, if known (see check_manifest).
        self.not_before: int | None = None

    def stage(self, release: dict[str, Any], current: str) -> StagedUpdate:
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
        if wheel["size"] is not None and wheel["size"] > self.max_bytes:
            raise DownloadError(
                f"{wheel['name']} is {wheel['size'] // (1024 * 1024)} MB, above the "
                f"{self.max_bytes // (1024 * 1024)} MB download limit", "too_large"
            )
        sums, signature = self._signed_manifest(assets, version)
        expected, key_id = check_manifest(sums, signature, self.keys, version, wheel["name"],
                                          self.not_before)
        if wheel.get("sha256") not in (None, expected):
            raise DownloadError(f"GitHub's digest for {wheel['name']} disagrees with the signed "
                                "SHA256SUMS; nothing was staged", "verification_failed")
        already = self.staged(version)
        if already is not None and already["sha256"] == expected:
            return already
        try:
            private_folder(self.updates_dir, "updates folder")
        except NotPrivate as exc:
            raise DownloadError(f"{exc}; nothing was staged", "not_private") from None
        self._sweep_leftovers()
        tmp = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=self.updates_dir))
        try:
            digest, size = self._fetch_to(wheel, tmp / wheel["name"])
            if digest != expected:
                raise DownloadError(
                    f"{wheel['name']} failed verification: its SHA-256 does not match the "
                    "signed SHA256SUMS; nothing was staged", "verification_failed"
                )
            if not same_version(wheel_version(tmp / wheel["name"]) or "", version):
                raise DownloadError(f"{wheel['name']} is not a wheel of version {version}; "
                                    "nothing was staged", "verification_failed")
            staged = StagedUpdate(
                version=version,
                file=wheel["name"],
                sha256=digest,
                size=size,
                signed_by=key_id,
                source_url=wheel["url"],
                release_url=release.get("html_url"),
                staged_at=utc_now_iso(),
                signed_at=signed_time(minisign.verify(sums, signature, self.keys)),
                path=str(self.updates_dir / version / wheel["name"]),
            )
            # Where it lies is not written down: the folder may move with the state dir.
            manifest = {k: v for k, v in staged.items() if k != "path"}
            (tmp / SUMS).write_bytes(sums)
            (tmp / SIG).write_text(signature, encoding="utf-8")
            (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
            self._install(tmp, self.updates_dir / version)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        log.info("staged update %s (%s, signed by %s)", version, wheel["name"], key_id)
        return staged

    def staged(self, version: str) -> StagedUpdate | None:
        """The manifest of a staged copy of `version` that verifies again now, else None.

        The signature and the wheel's digest are checked on every call, so a
        staged folder changed on disk, or signed by a key no longer trusted,
        is never used.
        """
        folder = self.updates_dir / version
        try:
            # Checked again at install time (the wheel is copied and hashed then); a
            # folder others could change is not used at all.
            private_folder(self.updates_dir, "updates folder", create=False)
            manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
            name = manifest["file"]
            if not isinstance(name, str) or Path(name).name != name or manifest["version"] \
                    != version:
                return None
            sums, sig = (folder / SUMS).read_bytes(), (folder / SIG).read_text(encoding="utf-8")
            digest, key_id = check_manifest(sums, sig, self.keys, version, name,
                                            self.not_before)
            signed_at = signed_time(minisign.verify(sums, sig, self.keys))
            wheel = folder / name
            if hashing.sha256_file(wheel) != digest:
                return None
            size = wheel.stat().st_size
        except (OSError, ValueError, KeyError, TypeError, DownloadError, NotPrivate,
                minisign.SignatureError):
            return None
        return StagedUpdate(
            version=version, file=name, sha256=digest, size=size,
            signed_by=key_id, source_url=_text(manifest.get("source_url")) or "",
            release_url=_text(manifest.get("release_url")),
            staged_at=_text(manifest.get("staged_at")) or "", signed_at=signed_at,
            path=str(wheel))

    def _signed_manifest(self, assets: list[dict[str, Any]], version: str) -> tuple[bytes, str]:
        sums = next((a for a in assets if a["name"] in SUMS_NAMES), None)
        sig = None if sums is None else next(
            (a for a in assets if a["name"] == sums["name"] + ".minisig"), None)
        if sums is None or sig is None:
            raise DownloadError(
                f"release {version} is not signed (no SHA256SUMS with SHA256SUMS.minisig); "
                "refusing to install code whose origin cannot be checked", "unsigned")
        deadline = time.monotonic() + SUMS_DEADLINE
        body = self._small(sums, MAX_SUMS_BYTES, deadline)
        signature = self._small(sig, minisign.MAX_SIGNATURE_BYTES, deadline)
        return body, signature.decode("utf-8", "replace")

    def _small(self, asset: dict[str, Any], limit: int, deadline: float) -> bytes:
        with requests.Session() as session:
            resp = net.open_url(session, asset["url"], policy=self.policy, headers=self.headers,
                                timeout=self.timeout, verify=self.verify)
            with resp:
                if resp.status_code != 200:
                    raise DownloadError(f"cannot fetch {asset['name']} "
                                        f"(HTTP {resp.status_code})")
                try:
                    return net.read_capped(resp, limit, deadline, asset["url"])
                except net.TooLarge:
                    raise DownloadError(f"{asset['name']} is larger than any real one "
                                        f"({limit} bytes)", "unverifiable") from None

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


