"""Sessions: the row behind each access token, and the token as issued and as verified."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Session:
    """A signed-in session: the row behind one access token (its jti)."""

    jti: str
    account_id: str
    issued_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None

    def live_at(self, now: datetime) -> bool:
        return self.revoked_at is None and self.expires_at > now


@dataclass(frozen=True)
class IssuedToken:
    token: str = field(repr=False)
    jti: str
    issued_at: datetime
    expires_at: datetime

    def session(self, account_id: str) -> Session:
        return Session(
            jti=self.jti,
            account_id=account_id,
            issued_at=self.issued_at,
            expires_at=self.expires_at,
        )


@dataclass(frozen=True)
class TokenClaims:
    """What a verified token says: which session, whose account."""

    jti: str
    account_id: str
    expires_at: datetime
