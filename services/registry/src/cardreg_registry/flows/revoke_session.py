"""Log out: the session behind the token is revoked; the token stops working everywhere."""

from __future__ import annotations

from dataclasses import dataclass

from cardreg_shared.errors import ErrorCode, ServiceFailure
from cardreg_shared.models.common import Empty
from cardreg_shared.models.registry import TokenRequest

from .bearer import verified_claims
from .methods import session_origin
from .ports import Clock, SessionNotLive, Storage, Tokens


@dataclass(frozen=True)
class RevokeSession:
    storage: Storage
    tokens: Tokens
    clock: Clock

    async def __call__(self, request: TokenRequest) -> Empty:
        now = self.clock()
        claims = await verified_claims(self.tokens, request.access_token, now)
        uow = self.storage.unit_of_work()
        found = await uow.sessions.with_account(claims.session_id)
        if found is None or found[0].principal != claims.subject:
            raise ServiceFailure(ErrorCode.UNAUTHORIZED)
        session, account = found
        uow.sessions.revoke(session.session_id, now)
        account.session_ended(now, session_origin(session.method))
        try:
            await uow.commit()
        except SessionNotLive:  # revoked already: the caller was not signed in with it
            raise ServiceFailure(ErrorCode.UNAUTHORIZED) from None
        return Empty()
