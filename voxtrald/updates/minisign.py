"""Ed25519 signatures in minisign's format: keys, signing, verifying.

A release is trusted because a key pinned in the package signed it, not
because a checksum published beside it matches (whoever controls the
release controls the checksum too). minisign's format is used so anyone can
check a release with the `minisign` tool, and maintainers keep ordinary
minisign key pairs. The cryptography is `cryptography`'s Ed25519; this
module only reads and writes the format:

    public key   base64("Ed" + key id (8) + public key (32))
    secret key   base64("Ed" + kdf ("Sc" or 0) + "B2" + salt (32) + opslimit (8)
                        + memlimit (8) + [key id (8) + seed+public (64) + blake2b (32)])
    signature    untrusted comment line, base64("ED" + key id + sig over BLAKE2b-512 of
                 the file), trusted comment line, base64(sig over sig + trusted comment)

Legacy signatures ("Ed": the file itself is signed, not its hash) are
verified too. The key id is shown the way minisign shows it (hex of the
little-endian number), so "signed by KEY-ID" matches what the tool prints.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ALG_ED25519 = b"Ed"  # the key algorithm, and the legacy (not prehashed) signature
ALG_PREHASHED = b"ED"  # signature over BLAKE2b-512 of the file
KDF_NONE = b"\x00\x00"
KDF_SCRYPT = b"Sc"
CHK_BLAKE2B = b"B2"
MAX_SIGNATURE_BYTES = 4096  # a .minisig is four short lines
MAX_COMMENT = 1024


class SignatureError(ValueError):
    """A key or signature that cannot be used, or a signature that does not verify."""


def _b64(text: str, size: int, what: str) -> bytes:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError(f"{what} is not valid base64") from None
    if len(raw) != size:
        raise SignatureError(f"{what} has {len(raw)} bytes, expected {size}")
    return raw


def key_id_text(key_id: bytes) -> str:
    """The id as minisign prints it: the little-endian number in upper-case hex, unpadded."""
    return format(int.from_bytes(key_id, "little"), "X")


def _key_line(text: str) -> str:
    """The base64 line of a key file, or the text itself when it is only that line."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if not lines:
        raise SignatureError("the key is empty")
    if lines[0].startswith("untrusted comment:"):
        if len(lines) < 2:
            raise SignatureError("the key file has a comment but no key")
        return lines[1]
    return lines[0]


@dataclass(frozen=True)
class PublicKey:
    key_id: bytes
    raw: bytes  # the 32-byte Ed25519 public key

    @property
    def id(self) -> str:
        return key_id_text(self.key_id)

    @classmethod
    def parse(cls, text: str) -> PublicKey:
        """From `RW...` (as in `[updates] public_keys`) or a whole `.pub` file."""
        raw = _b64(_key_line(text), 42, "the public key")
        if raw[:2] != ALG_ED25519:
            raise SignatureError("the public key is not an Ed25519 minisign key")
        return cls(raw[2:10], raw[10:])

    def encode(self) -> str:
        return base64.b64encode(ALG_ED25519 + self.key_id + self.raw).decode("ascii")

    def file_text(self) -> str:
        return f"untrusted comment: minisign public key {self.id}\n{self.encode()}\n"

    def _verify(self, signature: bytes, message: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.raw).verify(signature, message)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class SecretKey:
    key_id: bytes
    seed: bytes  # the 32-byte Ed25519 seed

    @property
    def public(self) -> PublicKey:
        private = Ed25519PrivateKey.from_private_bytes(self.seed)
        raw = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return PublicKey(self.key_id, raw)

    @classmethod
    def generate(cls) -> SecretKey:
        """A new pair with a random id (what `minisign -G -W` makes)."""
        return cls(os.urandom(8), os.urandom(32))

    @classmethod
    def parse(cls, text: str, password: bytes | None = None) -> SecretKey:
        """From a minisign secret key file; an encrypted one needs its password."""
        raw = _b64(_key_line(text), 158, "the secret key")
        sig_alg, kdf, chk_alg = raw[0:2], raw[2:4], raw[4:6]
        salt, ops, mem, sealed = raw[6:38], raw[38:46], raw[46:54], raw[54:]
        if sig_alg != ALG_ED25519 or chk_alg != CHK_BLAKE2B:
            raise SignatureError("the secret key is not an Ed25519 minisign key")
        if kdf == KDF_SCRYPT:
            if password is None:
                raise SignatureError("the secret key is encrypted; its password is needed")
            stream = _scrypt(password, salt, int.from_bytes(ops, "little"),
                             int.from_bytes(mem, "little"), len(sealed))
            sealed = bytes(a ^ b for a, b in zip(sealed, stream, strict=True))
        elif kdf != KDF_NONE:
            raise SignatureError("the secret key uses an unknown encryption")
        key_id, secret, checksum = sealed[:8], sealed[8:72], sealed[72:]
        expected = hashlib.blake2b(sig_alg + key_id + secret, digest_size=32).digest()
        # minisign writes a zero checksum into unencrypted keys (-W); anything else must match.
        if checksum != expected and not (kdf == KDF_NONE and not any(checksum)):
            raise SignatureError("the secret key's checksum does not match "
                                 "(wrong password, or a damaged key file)")
        key = cls(key_id, secret[:32])
        if key.public.raw != secret[32:]:
            raise SignatureError("the secret key is damaged (its halves do not match)")
        return key

    def file_text(self) -> str:
        """An unencrypted secret key file, as `minisign -G -W` writes it."""
        secret = self.seed + self.public.raw
        checksum = hashlib.blake2b(ALG_ED25519 + self.key_id + secret, digest_size=32).digest()
        raw = (ALG_ED25519 + KDF_NONE + CHK_BLAKE2B + bytes(32) + bytes(16)
               + self.key_id + secret + checksum)
        return ("untrusted comment: minisign secret key\n"
                + base64.b64encode(raw).decode("ascii") + "\n")

    def sign(self, data: bytes, trusted_comment: str,
             untrusted_comment: str = "signature from minisign secret key") -> str:
        """A prehashed `.minisig` for `data`, as `minisign -S` writes it."""
        for comment in (trusted_comment, untrusted_comment):
            if "\n" in comment or "\r" in comment or len(comment) > MAX_COMMENT:
                raise SignatureError("a signature comment must be one short line")
        private = Ed25519PrivateKey.from_private_bytes(self.seed)
        signature = private.sign(hashlib.blake2b(data, digest_size=64).digest())
        global_sig = private.sign(signature + trusted_comment.encode("utf-8"))
        line = base64.b64encode(ALG_PREHASHED + self.key_id + signature).decode("ascii")
        return (f"untrusted comment: {untrusted_comment}\n{line}\n"
                f"trusted comment: {trusted_comment}\n"
                f"{base64.b64encode(global_sig).decode('ascii')}\n")


def _scrypt(password: bytes, salt: bytes, opslimit: int, memlimit: int, size: int) -> bytes:
    """libsodium's crypto_pwhash_scryptsalsa208sha256 parameters from ops/mem limits."""
    opslimit = max(opslimit, 32768)
    r = 8
    if opslimit < memlimit // 32:
        p = 1
        max_n = opslimit // (r * 4)
    else:
        max_n = memlimit // (r * 128)
    n_log2 = 1
    while n_log2 < 63 and (1 << n_log2) <= max_n // 2:
        n_log2 += 1
    if opslimit >= memlimit // 32:
        p = max(1, min((opslimit // 4) // (1 << n_log2), 0x3FFFFFFF) // r)
    if n_log2 > 24 or p > 16:
        raise SignatureError("the secret key's encryption parameters are out of range")
    # OpenSSL's own estimate is 128 * r * (N + p + 2) bytes; maxmem must stay below 2 GiB.
    need = min(128 * r * ((1 << n_log2) + p + 2) + (1 << 20), 2**31 - 2)
    return hashlib.scrypt(password, salt=salt, n=1 << n_log2, r=r, p=p, maxmem=need,
                          dklen=size)


@dataclass(frozen=True)
class Verified:
    key_id: str
    trusted_comment: str

    def field(self, name: str) -> str | None:
        """A `name:value` field of the trusted comment (tab- or space-separated)."""
        for part in self.trusted_comment.replace("\t", " ").split():
            key, sep, value = part.partition(":")
            if sep and key == name:
                return value
        return None


def verify(data: bytes, signature_text: str, keys: Sequence[PublicKey]) -> Verified:
    """Check `signature_text` over `data` with any of `keys`; SignatureError says why not."""
    if len(signature_text) > MAX_SIGNATURE_BYTES:
        raise SignatureError("the signature file is too large")
    lines = signature_text.replace("\r\n", "\n").split("\n")
    if len(lines) < 4 or not lines[0].startswith("untrusted comment:") \
            or not lines[2].startswith("trusted comment: "):
        raise SignatureError("the signature file is not in minisign's format")
    raw = _b64(lines[1], 74, "the signature")
    alg, key_id, signature = raw[:2], raw[2:10], raw[10:]
    if alg not in (ALG_PREHASHED, ALG_ED25519):
        raise SignatureError("the signature uses an unknown algorithm")
    key = next((k for k in keys if k.key_id == key_id), None)
    if key is None:
        trusted = ", ".join(k.id for k in keys) or "none"
        raise SignatureError(f"signed by key {key_id_text(key_id)}, which is not trusted "
                             f"(trusted: {trusted})")
    message = hashlib.blake2b(data, digest_size=64).digest() if alg == ALG_PREHASHED else data
    if not key._verify(signature, message):
        raise SignatureError(f"the signature by key {key.id} does not match the file")
    comment = lines[2][len("trusted comment: "):]
    global_sig = _b64(lines[3], 64, "the trusted comment's signature")
    if not key._verify(global_sig, signature + comment.encode("utf-8")):
        raise SignatureError("the signature's trusted comment has been altered")
    return Verified(key.id, comment)


def default_trusted_comment(filename: str, **fields: str) -> str:
    """minisign's own trusted comment, with extra `name:value` fields after it."""
    extra = "".join(f"\t{name}:{value}" for name, value in fields.items())
    return f"timestamp:{int(time.time())}\tfile:{filename}\thashed{extra}"
