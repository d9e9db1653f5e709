"""Sessions: the row behind each access token, and the token as issued and as verified.

A session has a principal (an account; operators come with the counter console), the method it
was opened with and what that proved (`amr`, RFC 8176), its scopes and an optional device.
A token names its session (`sid`); the session, not the token, can be revoked.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from .scopes import PORTAL, Scope

CARD_PASSWORD = "card+password"
CARD_PASSWORD_AMR = ("pwd", "sc")  # a password and a smart card


@dataclass(frozen=True)
class Session:
    session_id: str
    account_id: str | None
    issued_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None
    method: str = CARD_PASSWORD
    amr: tuple[str, ...] = CARD_PASSWORD_AMR
    scopes: frozenset[Scope] = PORTAL
    device_id: str | None = None
    operator_id: str | None = None

    @classmethod
    def open(
        cls,
        account_id: str,
        now: datetime,
        ttl: timedelta,
        *,
        method: str,
        amr: tuple[str, ...],
        scopes: frozenset[Scope],
        device_id: str | None = None,
    ) -> Session:
        issued_at = now.replace(microsecond=0)  # as the token's iat says it
        return cls(
            session_id=new_session_id(),
            account_id=account_id,
            issued_at=issued_at,
            expires_at=issued_at + ttl,
            method=method,
            amr=amr,
            scopes=scopes,
            device_id=device_id,
        )

    @property
    def principal(self) -> str:
        """The opaque id the token's `sub` names."""
        return self.account_id or self.operator_id or ""

    def live_at(self, now: datetime) -> bool:
        return self.revoked_at is None and self.expires_at > now


def new_session_id() -> str:
    return secrets.token_urlsafe(16)


@dataclass(frozen=True)
class IssuedToken:
    token: str = field(repr=False)
    jti: str
    issued_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class TokenClaims:
    """What a verified token says: which session, whose, with which scopes."""

    jti: str
    session_id: str
    subject: str
    scopes: frozenset[Scope]
    amr: tuple[str, ...]
    expires_at: datetime
