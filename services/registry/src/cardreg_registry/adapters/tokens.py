"""Access tokens: EdDSA (Ed25519) JWTs with an opaque subject, signed with the key set's active
key and verified with any published one (adapters/key_ring.py).

Header `kid`; claims `iss`, `sub` (the principal's opaque id), `aud`, `iat`, `exp`, `jti`,
`scope` (space-separated), `amr` (RFC 8176 method references) and `sid` (the session).
Tokens from before sessions had ids of their own carry neither `amr` nor `sid`: their session
is the one named by their `jti`, and they expire within one token lifetime of the upgrade.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import jwt
from cardreg_shared.models.registry import Jwk

from ..domain.scopes import parse_scopes, scope_claim
from ..domain.sessions import IssuedToken, Session, TokenClaims
from .key_ring import KeyRing

ALGORITHM = "EdDSA"
_REQUIRED_CLAIMS = ["iss", "aud", "sub", "jti", "iat", "exp", "scope"]


class TokenSigner:
    def __init__(self, ring: KeyRing, *, issuer: str, audience: str, ttl: timedelta) -> None:
        self._ring = ring
        self._issuer = issuer
        self._audience = audience
        self._ttl = ttl

    @property
    def ttl(self) -> timedelta:
        return self._ttl

    def issue(self, session: Session) -> IssuedToken:
        kid, key = self._ring.signing
        jti = secrets.token_urlsafe(16)
        claims = {
            "iss": self._issuer,
            "aud": self._audience,
            "sub": session.principal,
            "jti": jti,
            "iat": int(session.issued_at.timestamp()),
            "exp": int(session.expires_at.timestamp()),
            "scope": scope_claim(session.scopes),
            "amr": list(session.amr),
            "sid": session.session_id,
        }
        token = jwt.encode(claims, key, algorithm=ALGORITHM, headers={"kid": kid})
        return IssuedToken(
            token=token, jti=jti, issued_at=session.issued_at, expires_at=session.expires_at
        )

    async def verify(self, token: str, now: datetime) -> TokenClaims | None:
        """The claims of a token we signed that is still valid at `now`; None otherwise.

        Expiry is checked against the service's clock rather than PyJWT's, so the whole
        service agrees on one notion of "now".
        """
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            if not isinstance(kid, str):
                return None
            public = await self._ring.verification_key(kid)
            if public is None:
                return None
            claims = jwt.decode(
                token,
                public,
                algorithms=[ALGORITHM],
                issuer=self._issuer,
                audience=self._audience,
                options={"require": _REQUIRED_CLAIMS, "verify_exp": False, "verify_iat": False},
            )
        except jwt.InvalidTokenError:
            return None
        return _claims(claims, now)

    def jwks(self, now: datetime) -> list[Jwk]:
        return self._ring.jwks(now)


def _claims(claims: dict, now: datetime) -> TokenClaims | None:
    expires, jti, subject = claims["exp"], claims["jti"], claims["sub"]
    if not (isinstance(expires, int) and isinstance(jti, str) and isinstance(subject, str)):
        return None
    scopes = parse_scopes(claims["scope"]) if isinstance(claims["scope"], str) else None
    session_id = claims.get("sid", jti)
    amr = claims.get("amr", [])
    if (
        not scopes
        or not isinstance(session_id, str)
        or not isinstance(amr, list)
        or not all(isinstance(method, str) for method in amr)
    ):
        return None
    if expires <= now.timestamp():
        return None
    return TokenClaims(
        jti=jti,
        session_id=session_id,
        subject=subject,
        scopes=scopes,
        amr=tuple(amr),
        expires_at=datetime.fromtimestamp(expires, UTC),
    )
