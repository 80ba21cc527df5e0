"""Signatures in minisign's format, checked both ways against the real `minisign` tool.

The tests that start real processes; those that start none are in
tests/unit/updates/test_updates_signing.py.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from voxtrald.updates.minisign import (
    PublicKey,
    SecretKey,
    SignatureError,
    default_trusted_comment,
    verify,
)

# What is signed: a SHA256SUMS line.
DATA = b"0123abcd  voxtral-1.1.0-py3-none-any.whl\n"


HAS_MINISIGN = shutil.which("minisign") is not None


needs_minisign = pytest.mark.skipif(not HAS_MINISIGN, reason="the minisign tool is needed "
                                    "(Debian package minisign)")


def minisign(*args: str, stdin: str | None = None, cwd: Path | None = None
             ) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["minisign", *args], input=stdin, capture_output=True, text=True,
                          timeout=120, cwd=cwd)


def make_pair(folder: Path) -> tuple[Path, Path]:
    """An unencrypted pair made by the tool itself (`minisign -G -W`)."""
    pub, sec = folder / "test.pub", folder / "test.key"
    done = minisign("-G", "-W", "-p", str(pub), "-s", str(sec))
    assert done.returncode == 0, done.stderr
    return pub, sec


@needs_minisign
def test_minisign_accepts_what_we_sign_with_its_key(tmp_path: Path) -> None:
    pub, sec = make_pair(tmp_path)
    key = SecretKey.parse(sec.read_text())
    assert key.public == PublicKey.parse(pub.read_text())
    target = tmp_path / "SHA256SUMS"
    target.write_bytes(DATA)
    comment = default_trusted_comment("SHA256SUMS", version="1.1.0")
    (tmp_path / "SHA256SUMS.minisig").write_text(key.sign(DATA, comment))
    done = minisign("-Vm", str(target), "-P", key.public.encode())
    assert done.returncode == 0, done.stderr
    assert "version:1.1.0" in done.stdout
    target.write_bytes(DATA + b"x")
    assert minisign("-Vm", str(target), "-P", key.public.encode()).returncode != 0


@needs_minisign
def test_minisign_accepts_a_key_pair_we_make(tmp_path: Path) -> None:
    key = SecretKey.generate()
    (tmp_path / "ours.key").write_text(key.file_text())
    (tmp_path / "f").write_bytes(DATA)
    done = minisign("-S", "-s", str(tmp_path / "ours.key"), "-m", str(tmp_path / "f"))
    assert done.returncode == 0, done.stderr
    assert verify(DATA, (tmp_path / "f.minisig").read_text(), [key.public]).key_id == \
        key.public.id


@needs_minisign
def test_we_accept_what_minisign_signs_and_nothing_altered(tmp_path: Path) -> None:
    pub, sec = make_pair(tmp_path)
    target = tmp_path / "SHA256SUMS"
    target.write_bytes(DATA)
    done = minisign("-S", "-s", str(sec), "-m", str(target), "-t", "file:SHA256SUMS version:1.1.0")
    assert done.returncode == 0, done.stderr
    signature = (tmp_path / "SHA256SUMS.minisig").read_text()
    trusted = PublicKey.parse(pub.read_text())
    result = verify(DATA, signature, [trusted])
    assert result.key_id == trusted.id
    assert result.key_id in pub.read_text()  # the id minisign prints in its comment
    assert result.field("version") == "1.1.0"

    with pytest.raises(SignatureError, match="does not match"):
        verify(DATA + b"\n", signature, [trusted])
    lines = signature.splitlines()
    forged = "\n".join([*lines[:2], "trusted comment: file:SHA256SUMS version:9.9.9",
                        lines[3]]) + "\n"
    with pytest.raises(SignatureError, match="trusted comment has been altered"):
        verify(DATA, forged, [trusted])
    with pytest.raises(SignatureError, match="not trusted"):
        verify(DATA, signature, [SecretKey.generate().public])


@needs_minisign
def test_legacy_signatures_verify_too(tmp_path: Path) -> None:
    pub, sec = make_pair(tmp_path)
    (tmp_path / "f").write_bytes(DATA)
    assert minisign("-S", "-l", "-s", str(sec), "-m", str(tmp_path / "f")).returncode == 0
    assert verify(DATA, (tmp_path / "f.minisig").read_text(),
                  [PublicKey.parse(pub.read_text())])


@needs_minisign
def test_encrypted_key_made_by_minisign_needs_its_password(tmp_path: Path) -> None:
    pub, sec = tmp_path / "enc.pub", tmp_path / "enc.key"
    done = minisign("-G", "-p", str(pub), "-s", str(sec), stdin="s3cret\ns3cret\n")
    assert done.returncode == 0, done.stderr
    with pytest.raises(SignatureError, match="password is needed"):
        SecretKey.parse(sec.read_text())
    key = SecretKey.parse(sec.read_text(), b"s3cret")  # scrypt at minisign's cost: seconds
    assert key.public == PublicKey.parse(pub.read_text())
