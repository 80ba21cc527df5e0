"""Signatures in minisign's format, checked both ways against the real `minisign` tool."""

from __future__ import annotations

from pathlib import Path

import pytest

from voxtrald.config import ConfigError
from voxtrald.config import load as load_config
from voxtrald.updates import keys
from voxtrald.updates.minisign import (
    PublicKey,
    SecretKey,
    SignatureError,
    verify,
)

# What is signed: a SHA256SUMS line.
DATA = b"0123abcd  voxtral-1.1.0-py3-none-any.whl\n"


@pytest.mark.parametrize("text", ["", "RW", "not base64 at all!", "RWQ" + "A" * 49,
                                  "untrusted comment: x\n"])
def test_malformed_public_keys_are_refused(text: str) -> None:
    with pytest.raises(SignatureError):
        PublicKey.parse(text)


@pytest.mark.parametrize("signature", ["", "x\ny\nz\nw\n", "untrusted comment: a\nRUQ=\n"
                                       "trusted comment: b\nAAAA\n", "a\n" * 5000])
def test_malformed_signatures_are_refused(signature: str) -> None:
    with pytest.raises(SignatureError):
        verify(DATA, signature, [SecretKey.generate().public])


def test_the_pinned_key_parses_and_config_keys_replace_it(tmp_path: Path) -> None:
    pinned = keys.trusted_keys()
    assert [k.encode() for k in pinned] == list(keys.PINNED_KEYS)
    mine = SecretKey.generate().public
    assert keys.trusted_keys([mine.encode()]) == [mine]
    good = tmp_path / "good.toml"
    good.write_text(f'[updates]\npublic_keys = ["{mine.encode()}"]\n')
    assert load_config(good).updates.public_keys == [mine.encode()]
    bad = tmp_path / "bad.toml"
    bad.write_text('[updates]\npublic_keys = ["RWnot-a-key"]\n')
    with pytest.raises(ConfigError, match="updates.public_keys"):
        load_config(bad)
