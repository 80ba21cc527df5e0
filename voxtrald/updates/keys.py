"""Which keys may sign a release: the maintainers' key pinned here, or the config's.

The pinned key is the reason an install can trust what it downloads, so it
lives in the package, not in anything fetched. `[updates] public_keys`
replaces it (a fork, a test); two keys may be listed at once so a new key
can be introduced a release before the old one is retired.
"""

from __future__ import annotations

from collections.abc import Sequence

from voxtrald.updates.minisign import PublicKey, SignatureError

#: The maintainers' release keys (minisign public keys). Keep the previous key here for
#: one release when rotating, so installs that update across the change still verify.
PINNED_KEYS: tuple[str, ...] = (
    "RWTuJTryclsbDh9Ech9XQlMBaTtO2I1MehugNPoH7ZjAbOprbfgADkp3",
)


def parse_keys(texts: Sequence[str]) -> list[PublicKey]:
    """The keys, or SignatureError naming the one that is not a minisign public key."""
    keys = []
    for index, text in enumerate(texts):
        try:
            keys.append(PublicKey.parse(text))
        except SignatureError as exc:
            raise SignatureError(f"public key {index + 1} ({text[:12]!r}...): {exc}") from None
    return keys


def trusted_keys(configured: Sequence[str] = ()) -> list[PublicKey]:
    """The configured keys if any are set, else the pinned ones."""
    return parse_keys(list(configured) if configured else list(PINNED_KEYS))
