"""Access tokens: EdDSA (Ed25519) JWTs with an opaque subject, and the key that signs them.

The key lives in a PEM file created 0600 on first start, so tokens survive a restart and
every replica sharing the data directory signs with the same key.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
from cardreg_shared.models.common import b64url_encode
from cardreg_shared.models.registry import Jwk
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ..domain.sessions import IssuedToken, TokenClaims

log = logging.getLogger("cardreg.registry.tokens")

ALGORITHM = "EdDSA"
SCOPE = "account"
_REQUIRED_CLAIMS = ["iss", "aud", "sub", "jti", "iat", "exp", "scope"]


def load_or_create_signing_key(path: Path) -> Ed25519PrivateKey:
    """Read the PEM key, or create it (mode 0600) when the file does not exist yet."""
    try:
        return _load(path)
    except FileNotFoundError:
        pass
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    # Write aside, then link into place: a replica starting at the same moment sees either
    # no file or a whole one, and whoever links first wins.
    temp = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(pem)
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(temp, path)
            log.info("created a new token signing key")
        except FileExistsError:
            return _load(path)
    finally:
        temp.unlink(missing_ok=True)
    return key


def _load(path: Path) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise TypeError(f"{path.name} does not hold an Ed25519 private key")
    if path.stat().st_mode & 0o077:
        log.warning("%s is readable by group or others; it should be mode 0600", path.name)
    return key


def public_jwk(key: Ed25519PrivateKey) -> Jwk:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    x = b64url_encode(raw)
    return Jwk(kty="OKP", crv="Ed25519", x=x, kid=thumbprint(x))


def thumbprint(x: str) -> str:
    """RFC 7638: SHA-256 over the required members, in lexicographic order, no whitespace."""
    canonical = json.dumps(
        {"crv": "Ed25519", "kty": "OKP", "x": x}, separators=(",", ":"), sort_keys=True
    )
    return b64url_encode(hashlib.sha256(canonical.encode("ascii")).digest())


class TokenSigner:
    def __init__(
        self, key: Ed25519PrivateKey, *, issuer: str, audience: str, ttl: timedelta
    ) -> None:
        self._key = key
        self._public = key.public_key()
        self._jwk = public_jwk(key)
        self._issuer = issuer
        self._audience = audience
        self._ttl = ttl

    @property
    def jwk(self) -> Jwk:
        return self._jwk

    @property
    def ttl(self) -> timedelta:
        return self._ttl

    def issue(self, account_id: str, now: datetime) -> IssuedToken:
        issued_at = now.replace(microsecond=0)
        expires_at = issued_at + self._ttl
        jti = secrets.token_urlsafe(16)
        claims = {
            "iss": self._issuer,
            "aud": self._audience,
            "sub": account_id,
            "jti": jti,
            "iat": int(issued_at.timestamp()),
            "exp": int(expires_at.timestamp()),
            "scope": SCOPE,
        }
        token = jwt.encode(claims, self._key, algorithm=ALGORITHM, headers={"kid": self._jwk.kid})
        return IssuedToken(token=token, jti=jti, issued_at=issued_at, expires_at=expires_at)

    def verify(self, token: str, now: datetime) -> TokenClaims | None:
        """The claims of a token we signed that is still valid at `now`; None otherwise.

        Expiry is checked against the service's clock rather than PyJWT's, so the whole
        service agrees on one notion of "now".
        """
        try:
            if jwt.get_unverified_header(token).get("kid") != self._jwk.kid:
                return None
            claims = jwt.decode(
                token,
                self._public,
                algorithms=[ALGORITHM],
                issuer=self._issuer,
                audience=self._audience,
                options={"require": _REQUIRED_CLAIMS, "verify_exp": False, "verify_iat": False},
            )
        except jwt.InvalidTokenError:
            return None
        expires = claims["exp"]
        if (
            not isinstance(expires, int)
            or claims["scope"] != SCOPE
            or not isinstance(claims["jti"], str)
            or not isinstance(claims["sub"], str)
        ):
            return None
        if expires <= now.timestamp():
            return None
        return TokenClaims(
            jti=claims["jti"],
            account_id=claims["sub"],
            expires_at=datetime.fromtimestamp(expires, UTC),
        )
