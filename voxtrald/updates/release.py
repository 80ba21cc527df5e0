"""From GitHub's release JSON to what we tell the user, with no I/O.

The JSON is untrusted and may be anything, so it is reduced once, here, to a
small plain dict of cleaned fields (that is also what the state file caches,
so a 304 or a restart never re-reads raw text). Whether that release is an
update is decided afresh each time from the cached dict, because the answer
depends on things that change without a new request: the installed version,
the channel and the dismissed versions.
"""

from __future__ import annotations

import re
from typing import Any

from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import Version

from voxtrald.bodies import UpdateCheck
from voxtrald.updates import sanitize
from voxtrald.updates.versions import (
    InvalidTag,
    canonical,
    is_newer,
    is_prerelease,
    parse_tag,
    same_version,
)

MAX_ASSETS = 100
MAX_ASSET_NAME = 255
# The wheel's name becomes a file name in the state folder and is printed by
# `voxtrald download-update`, so only the characters wheel names really use:
# a NUL would make open() raise, an escape sequence would reach the terminal.
_WHEEL_NAME = re.compile(r"[A-Za-z0-9._+-]{1,200}\.whl")


class BadRelease(ValueError):
    """The API answered, but not with a release we can read."""


def _clean_asset(raw: object) -> dict[str, Any] | None:
    if not isinstance(raw, dict):
        return None
    name = raw.get("name")
    url = raw.get("browser_download_url")
    if not isinstance(name, str) or not isinstance(url, str):
        return None
    if not name or len(name) > MAX_ASSET_NAME or len(url) > sanitize.MAX_URL:
        return None
    if any(ch.isspace() for ch in url):
        return None
    size = raw.get("size")
    return {
        "name": name,
        "url": url,
        "size": size if isinstance(size, int) and not isinstance(size, bool) and size >= 0
        else None,
        "sha256": sanitize.clean_sha256(raw.get("digest")),
    }


def normalize_release(raw: object) -> dict[str, Any]:
    """Cleaned fields of one release; raises BadRelease when it is not one."""
    if not isinstance(raw, dict):
        raise BadRelease("the release data is not a JSON object")
    tag = raw.get("tag_name")
    if not isinstance(tag, str) or not tag:
        raise BadRelease("the release has no tag")
    try:
        version: str | None = canonical(parse_tag(tag))
        invalid = None
    except InvalidTag as exc:
        version, invalid = None, str(exc)
    assets_raw = raw.get("assets")
    assets = []
    if isinstance(assets_raw, list):
        for item in assets_raw[:MAX_ASSETS]:
            asset = _clean_asset(item)
            if asset is not None:
                assets.append(asset)
    published = raw.get("published_at")
    return {
        "tag": sanitize.clean_text(tag, 80),
        "version": version,
        "invalid_tag": invalid,
        "name": sanitize.clean_text(raw.get("name"), sanitize.MAX_NAME) or None,
        "notes": sanitize.clean_text(raw.get("body"), sanitize.MAX_NOTES, multiline=True) or None,
        "html_url": sanitize.clean_https_url(raw.get("html_url")),
        "published_at": sanitize.clean_text(published, 40) or None,
        "draft": raw.get("draft") is True,
        "prerelease": raw.get("prerelease") is True,
        "assets": assets,
    }


def pick_release(releases: object, channel: str) -> object:
    """From a list of releases (the prerelease channel's request), the newest offerable one.

    GitHub's `releases/latest` never returns a prerelease, so the prerelease
    channel lists releases instead and takes the highest valid version; a
    draft or an unreadable tag is skipped. With nothing usable, the first item
    is returned so the caller reports on it (or None for an empty list).
    """
    if not isinstance(releases, list):
        raise BadRelease("the release list is not a JSON array")
    best: tuple[Version, object] | None = None
    for item in releases:
        if not isinstance(item, dict) or item.get("draft") is True:
            continue
        try:
            version = parse_tag(item.get("tag_name"))
        except InvalidTag:
            continue
        if channel == "stable" and is_prerelease(version, item.get("prerelease") is True):
            continue
        if best is None or version > best[0]:
            best = (version, item)
    if best is not None:
        return best[1]
    return releases[0] if releases else None


def choose_wheel(assets: list[dict[str, Any]], version: str) -> dict[str, Any] | None:
    """The asset that is a wheel of this distribution at `version`; pure-Python preferred."""
    target = Version(version)
    wanted = canonicalize_name("voxtral")
    found = []
    for asset in assets:
        name = asset.get("name", "")
        if not isinstance(name, str) or not _WHEEL_NAME.fullmatch(name):
            continue
        try:
            dist, wheel_version, _build, tags = parse_wheel_filename(name)
        except (InvalidWheelFilename, ValueError):
            continue
        if dist != wanted or wheel_version != target:
            continue
        universal = any(t.interpreter == "py3" and t.abi == "none" and t.platform == "any"
                        for t in tags)
        found.append((0 if universal else 1, name, asset))
    if not found:
        return None
    found.sort(key=lambda item: (item[0], item[1]))
    return found[0][2]


def parse_sha256sums(text: str, filename: str) -> str | None:
    """The hash listed for `filename` in a `sha256sum`-style file, else None."""
    for line in text.splitlines():
        parts = line.strip().split(None, 1)
        if len(parts) != 2:
            continue
        digest, name = parts
        name = name.strip()
        if name.startswith("*"):
            name = name[1:]
        if name == filename:
            return sanitize.clean_sha256(digest)
    return None


def evaluate(
    release: dict[str, Any] | None,
    current: str,
    channel: str,
    dismissed: list[str],
) -> UpdateCheck:
    """The user-facing fields for a cached release: is there an update, and which.

    The checker fills in what only it knows (when it checked, rolled-back versions,
    whether this install can apply).
    """
    result = UpdateCheck(
        update_available=False, current_version=current, latest_version=None,
        release_name=None, release_notes=None, release_url=None, download_url=None,
        published_at=None, prerelease=False, dismissed=False, error=None,
        checked_at=None, channel=channel, rolled_back=False, rolled_back_reason=None,
        can_apply=False,
    )
    if release is None or release.get("draft"):
        return result
    version = release.get("version")
    if version is None:
        tag = release.get("tag") or "?"
        why = release.get("invalid_tag") or "not a version"
        result["error"] = f"the latest release's tag {tag!r} was ignored: {why}"
        return result
    parsed = Version(version)
    prerelease = is_prerelease(parsed, release.get("prerelease", False))
    if prerelease and channel != "prerelease":
        return result
    wheel = choose_wheel(release.get("assets", []), version)
    result["latest_version"] = version
    result["release_name"] = release.get("name") or release.get("tag")
    result["release_notes"] = release.get("notes")
    result["release_url"] = release.get("html_url")
    result["download_url"] = sanitize.clean_https_url(wheel["url"]) if wheel else None
    result["published_at"] = release.get("published_at")
    result["prerelease"] = prerelease
    result["update_available"] = is_newer(parsed, current)
    result["dismissed"] = any(same_version(version, d) for d in dismissed)
    return result
