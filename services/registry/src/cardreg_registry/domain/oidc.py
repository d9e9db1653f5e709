"""Relying services (DESIGN "Relying services"): OpenID Connect clients and what the provider
keeps for them.

- A **client** is registered by an admin: confidential (a secret, kept only as its SHA-256:
  it is 256 random bits, so a slow hash adds nothing) or public (PKCE alone), with redirect URIs
  matched exactly and the scopes it may ask for (`nhi_id` only when registered for it).
- A **grant** is one sign-in of one account at one client: its scopes, `amr` and time. Every
  code, refresh token and access token belongs to a grant; revoking the grant (a reused code or
  refresh token, the holder withdrawing consent, revocation) stops all of them at once.
- An **authorization code** is single use, short-lived, bound to its redirect URI, its PKCE
  challenge (S256) and the nonce; only its SHA-256 is stored.
- A **refresh token** rotates: each use marks it used and issues the next in the same grant; a
  used one presented again revokes the whole grant (reuse detection, OAuth 2.0 Security BCP).
- A **consent** is remembered per account, client and scope set, until withdrawn.
- `sub` is pairwise: an HMAC of the client id and the account id under a key of the registry
  secret, so two clients cannot join their users and no client learns the account id.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from .scopes import Scope


class OidcScope(StrEnum):
    OPENID = "openid"  # sub
    PROFILE = "profile"  # name (masked)
    EMAIL = "email"
    PHONE = "phone"
    NHI_ID = "nhi_id"  # the ID number: only for clients registered for it
    # The session scopes a relying service may act under (the health passbook, the counter
    # functions): the only ones, with `openid`, that a phone's device login can hand on.
    PASSBOOK = "passbook"
    COUNTER = "counter"


DEFAULT_CLIENT_SCOPES = frozenset(
    {OidcScope.OPENID, OidcScope.PROFILE, OidcScope.EMAIL, OidcScope.PHONE}
)
CODE_TTL = timedelta(seconds=60)
REFRESH_TTL = timedelta(days=30)
SECRET_BYTES = 32


def new_secret() -> str:
    return secrets.token_urlsafe(SECRET_BYTES)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def parse_oidc_scopes(text: str) -> frozenset[OidcScope] | None:
    """The scopes of a request or stored column; None when one is not ours."""
    try:
        return frozenset(OidcScope(part) for part in text.split())
    except ValueError:
        return None


# What each session scope lets a login hand on to a relying service. `openid` (the pairwise
# `sub`) goes with any login; the person's data (name, ID number, email, phone) only with a
# card login (`account`): a phone's device login (`passbook counter`) hands on no more than it has.
_HANDED_ON = {
    Scope.ACCOUNT: frozenset(
        {OidcScope.PROFILE, OidcScope.EMAIL, OidcScope.PHONE, OidcScope.NHI_ID}
    ),
    Scope.PASSBOOK: frozenset({OidcScope.PASSBOOK}),
    Scope.COUNTER: frozenset({OidcScope.COUNTER}),
}


def handed_on(session_scopes: frozenset[Scope]) -> frozenset[OidcScope]:
    """The OIDC scopes a session of these scopes may authorize."""
    allowed = {OidcScope.OPENID}
    for scope in session_scopes:
        allowed |= _HANDED_ON.get(scope, frozenset())
    return frozenset(allowed)


def oidc_scope_text(scopes: frozenset[OidcScope]) -> str:
    return " ".join(scope.value for scope in OidcScope if scope in scopes)


@dataclass(frozen=True)
class OidcClient:
    client_id: str
    name: str
    redirect_uris: tuple[str, ...]
    scopes: frozenset[OidcScope]
    created_at: datetime
    secret_hash: str | None = field(default=None, repr=False)  # None: a public client
    id_token_alg: str = "EdDSA"  # or RS256 (OpenID Connect's default, for clients that need it)

    @property
    def public(self) -> bool:
        return self.secret_hash is None

    def allows_redirect(self, uri: str) -> bool:
        """Exact string match, as OAuth 2.0 Security BCP asks (no prefixes, no patterns)."""
        return uri in self.redirect_uris

    def allows(self, scopes: frozenset[OidcScope]) -> bool:
        return scopes <= self.scopes

    def secret_matches(self, secret: str) -> bool:
        if self.secret_hash is None:
            return False
        return hmac.compare_digest(self.secret_hash, hash_secret(secret))


@dataclass(frozen=True)
class Grant:
    grant_id: str
    client_id: str
    account_id: str
    scopes: frozenset[OidcScope]
    amr: tuple[str, ...]
    auth_time: datetime
    created_at: datetime
    revoked_at: datetime | None = None

    @property
    def live(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True)
class AuthorizationCode:
    code_hash: str = field(repr=False)
    grant_id: str
    redirect_uri: str
    nonce: str = field(repr=False)
    code_challenge: str = field(repr=False)  # S256 only
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None

    def usable_at(self, now: datetime) -> bool:
        return self.used_at is None and self.expires_at > now


@dataclass(frozen=True)
class RefreshToken:
    token_hash: str = field(repr=False)
    grant_id: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None

    def usable_at(self, now: datetime) -> bool:
        return self.used_at is None and self.expires_at > now


@dataclass(frozen=True)
class Consent:
    account_id: str
    client_id: str
    scopes: frozenset[OidcScope]
    created_at: datetime

    def covers(self, scopes: frozenset[OidcScope]) -> bool:
        return scopes <= self.scopes


def s256(verifier: str) -> str:
    """RFC 7636 S256: BASE64URL(SHA256(verifier)) without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class PairwiseSubjects:
    """`sub` per client: HMAC-SHA256(key, client_id NUL account_id), base64url."""

    key: bytes = field(repr=False)

    def subject(self, client_id: str, account_id: str) -> str:
        mac = hmac.new(self.key, f"{client_id}\0{account_id}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).rstrip(b"=").decode("ascii")
