"""The registry secret: 256 random bits kept beside the database, never in it.

From it, by HKDF-SHA256 with a label per use: the key that seals the private halves of the
signing keys in storage (AES-256-GCM, the key's kid as associated data), the HMAC key of the
ID numbers' keyed hashes (domain/id_numbers.py), and a check value the storage records, so a
registry started with another secret refuses to run instead of failing on every login.

It comes from `CARDREG_REGISTRY_SECRET` (base64url) or, by default, the file
`registry-secret` in the data directory, created mode 0600 on first start. Every replica needs
the same secret: share the data directory, or give each the same variable. Losing it means
new signing keys (everyone signs in again) and no ID-number rule for existing accounts until
their card is next seen: back it up, apart from the database's backups.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from cardreg_shared.models.common import b64url_decode, b64url_encode
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

log = logging.getLogger("cardreg.registry.secret")

SECRET_BYTES = 32
NONCE_BYTES = 12


class SecretUnusable(RuntimeError):
    """The secret is malformed, or cannot open what was sealed with it."""


def load_or_create_secret(path: Path) -> bytes:
    """Read the secret file, or create it (0600) when there is none yet."""
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    created = secrets.token_bytes(SECRET_BYTES)
    # Write aside, then link into place: a replica starting at the same moment sees either
    # no file or a whole one, and whoever links first wins.
    temp = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(b64url_encode(created) + "\n")
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(temp, path)
            log.info("created the registry secret")
        except FileExistsError:
            return _read(path)
    finally:
        temp.unlink(missing_ok=True)
    return created


def parse_secret(text: str) -> bytes:
    try:
        raw = b64url_decode(text.strip())
    except ValueError:
        raise SecretUnusable("the registry secret is not base64url") from None
    if len(raw) < SECRET_BYTES:
        raise SecretUnusable(f"the registry secret must have at least {SECRET_BYTES} bytes")
    return raw


def _read(path: Path) -> bytes:
    secret = parse_secret(path.read_text(encoding="ascii"))
    if path.stat().st_mode & 0o077:
        log.warning("%s is readable by group or others; it should be mode 0600", path.name)
    return secret


class RegistrySecret:
    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def derive(self, label: str) -> bytes:
        return HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=f"cardreg/{label}".encode()
        ).derive(self._secret)

    @property
    def id_number_key(self) -> bytes:
        return self.derive("registry/id-number/v1")

    @property
    def challenge_key(self) -> bytes:
        """The MAC key of WebAuthn challenges (domain/challenges.py)."""
        return self.derive("registry/webauthn-challenge/v1")

    @property
    def check_value(self) -> str:
        return self.derive("registry/secret-check/v1").hex()

    def sealer(self) -> KeySealer:
        return KeySealer(self.derive("registry/key-set/v1"))

    def __repr__(self) -> str:
        return "RegistrySecret(**********)"


class KeySealer:
    """AES-256-GCM; `context` (the key's kid) is bound in as associated data, so a sealed
    value copied to another row does not open."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def seal(self, secret: bytes, context: str) -> bytes:
        nonce = secrets.token_bytes(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, secret, context.encode())

    def unseal(self, sealed: bytes, context: str) -> bytes:
        try:
            return self._aead.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], context.encode())
        except InvalidTag:
            raise SecretUnusable(f"signing key {context} does not open with this secret") from None
