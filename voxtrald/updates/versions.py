"""Release tags to versions, and the one question that matters: is it newer?

Tags come from the network, so they are parsed strictly: `packaging` alone
would read the semver build `1.2.3-1` as the post-release `1.2.3.post1` and
offer it as an update, and would accept a local version (`1.2.3+dev`) that no
release should carry. Anything that is not a plain PEP 440 release (with an
optional pre/post/dev part) is refused, so an odd tag means "no update" rather
than a surprise.
"""

from __future__ import annotations

import re

from packaging.version import InvalidVersion, Version

MAX_TAG_LENGTH = 64

# After the one `v`: a digit first, then only what a version uses (no paths,
# spaces or `+local`); packaging itself would also take a second `v` or spaces.
_TAG_CHARS = re.compile(r"^[0-9][0-9A-Za-z.\-_]*$")
# The semver build-number form `X.Y.Z-N` (packaging would call it a post-release).
_SEMVER_DASH_NUMBER = re.compile(r"-\d+$")


class InvalidTag(ValueError):
    """A tag that does not name a release version; the message says why."""


def parse_tag(tag: object) -> Version:
    """`v1.2.3` / `V1.2.3` / `1.2.3` -> Version; anything doubtful -> InvalidTag."""
    if not isinstance(tag, str) or not tag:
        raise InvalidTag("missing version tag")
    if len(tag) > MAX_TAG_LENGTH:
        raise InvalidTag("version tag is too long")
    text = tag[1:] if tag[0] in "vV" else tag
    if not _TAG_CHARS.match(text):
        raise InvalidTag("version tag has characters a version cannot have")
    if _SEMVER_DASH_NUMBER.search(text):
        raise InvalidTag("version tag has a build suffix (-N)")
    try:
        version = Version(text)
    except InvalidVersion as exc:
        raise InvalidTag("version tag is not a version") from exc
    if version.local is not None or version.epoch != 0:
        raise InvalidTag("version tag is a local or epoch version")
    return version


def canonical(version: Version) -> str:
    """One spelling per version: `1.1`, `1.1.0` and `1.1.0.0` are all "1.1.0".

    Folders, dismissed and failed lists are keyed by this text, so two tags of
    the same version cannot stage twice or slip past a dismissal.
    """
    release = list(version.release)
    while len(release) > 3 and release[-1] == 0:
        release.pop()
    release += [0] * (3 - len(release))
    text = ".".join(str(n) for n in release)
    if version.pre is not None:
        text += f"{version.pre[0]}{version.pre[1]}"
    if version.post is not None:
        text += f".post{version.post}"
    if version.dev is not None:
        text += f".dev{version.dev}"
    return text


def same_version(a: str, b: str) -> bool:
    """Whether two version texts name the same version (unreadable ones compare as text)."""
    try:
        return Version(a) == Version(b)
    except InvalidVersion:
        return a == b


def is_newer(candidate: Version, current: str) -> bool:
    """Only a strictly newer release is an update; an unreadable current counts as 0."""
    try:
        installed = Version(current)
    except InvalidVersion:
        installed = Version("0")
    return candidate > installed


def is_prerelease(version: Version, flagged: bool) -> bool:
    """A release is a prerelease if GitHub flags it or its version says so."""
    return bool(flagged) or version.is_prerelease
