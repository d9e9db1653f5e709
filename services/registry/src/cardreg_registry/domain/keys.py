"""The key set that signs and verifies access tokens (DESIGN "Sessions and keys").

One key is active: new tokens are signed with it. A rotation retires it and makes a new one
active; a retired key loses its private half at once but stays published (JWKS, and accepted
when verifying) until the last token it can have signed has expired. Every replica reads the
same set from storage, so they sign and verify alike.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cardreg_shared.models.common import b64url_encode

EDDSA = "EdDSA"  # Ed25519: every token of ours, and id_tokens by default
RS256 = "RS256"  # RSA: offered for id_tokens, as OpenID Connect requires
ALGORITHMS = (EDDSA, RS256)


@dataclass(frozen=True)
class SigningKey:
    kid: str
    # EdDSA: the raw Ed25519 key, 32 bytes; RS256: the RSA key's DER SubjectPublicKeyInfo.
    public_key: bytes
    created_at: datetime
    # EdDSA: the raw 32-byte seed; RS256: DER PKCS#8. None once retired (nothing may sign
    # with it again).
    private_key: bytes | None = field(default=None, repr=False)
    retired_at: datetime | None = None
    alg: str = EDDSA

    @property
    def active(self) -> bool:
        return self.retired_at is None

    def published_at(self, now: datetime, grace: timedelta) -> bool:
        """Still verifying: active, or retired less than `grace` ago (the longest a token it
        signed can live, plus the time replicas take to notice the rotation)."""
        return self.retired_at is None or self.retired_at + grace > now


@dataclass(frozen=True)
class KeySet:
    keys: tuple[SigningKey, ...] = ()

    @property
    def active(self) -> SigningKey | None:
        """The active EdDSA key: what access tokens are signed with."""
        return self.active_for(EDDSA)

    def active_for(self, alg: str) -> SigningKey | None:
        """One active key per algorithm."""
        return next((key for key in self.keys if key.active and key.alg == alg), None)

    def published(self, now: datetime, grace: timedelta) -> tuple[SigningKey, ...]:
        """The active key first, then the retired ones still published, newest first."""
        keys = [key for key in self.keys if key.published_at(now, grace)]
        return tuple(sorted(keys, key=lambda k: (not k.active, -k.created_at.timestamp())))

    def find(self, kid: str) -> SigningKey | None:
        return next((key for key in self.keys if key.kid == kid), None)


def thumbprint(x: str) -> str:
    """RFC 7638 over the Ed25519 JWK's required members: the key's `kid`."""
    canonical = json.dumps(
        {"crv": "Ed25519", "kty": "OKP", "x": x}, separators=(",", ":"), sort_keys=True
    )
    return b64url_encode(hashlib.sha256(canonical.encode("ascii")).digest())


def kid_of(public_key: bytes) -> str:
    return thumbprint(b64url_encode(public_key))


def rsa_thumbprint(n: str, e: str) -> str:
    """RFC 7638 over the RSA JWK's required members."""
    canonical = json.dumps({"e": e, "kty": "RSA", "n": n}, separators=(",", ":"), sort_keys=True)
    return b64url_encode(hashlib.sha256(canonical.encode("ascii")).digest())
