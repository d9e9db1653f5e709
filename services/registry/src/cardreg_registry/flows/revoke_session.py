"""Log out: the session behind the token is revoked; the token stops working everywhere."""

from __future__ import annotations

from dataclasses import dataclass

from cardreg_shared.errors import ErrorCode, ServiceFailure
from cardreg_shared.models.common import Empty
from cardreg_shared.models.registry import TokenRequest

from .bearer import verified_claims
from .ports import Clock, SessionStore, Tokens


@dataclass(frozen=True)
class RevokeSession:
    sessions: SessionStore
    tokens: Tokens
    clock: Clock

    async def __call__(self, request: TokenRequest) -> Empty:
        now = self.clock()
        claims = verified_claims(self.tokens, request.access_token, now)
        # Unknown or already revoked: the caller was not signed in with this token.
        if not await self.sessions.revoke_session(claims.jti, now):
            raise ServiceFailure(ErrorCode.UNAUTHORIZED)
        return Empty()
