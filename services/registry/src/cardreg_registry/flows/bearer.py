"""Who holds this access token: a token we signed, unexpired, whose session is still live."""

from __future__ import annotations

from datetime import datetime

from cardreg_shared.errors import ErrorCode, ServiceFailure

from ..domain.accounts import Account
from ..domain.sessions import Session, TokenClaims
from .ports import SessionStore, Tokens


def verified_claims(tokens: Tokens, token: str, now: datetime) -> TokenClaims:
    claims = tokens.verify(token, now)
    if claims is None:
        raise ServiceFailure(ErrorCode.UNAUTHORIZED)
    return claims


async def signed_in_account(
    tokens: Tokens, sessions: SessionStore, token: str, now: datetime
) -> Account:
    return (await signed_in_session(tokens, sessions, token, now))[1]


async def signed_in_session(
    tokens: Tokens, sessions: SessionStore, token: str, now: datetime
) -> tuple[Session, Account]:
    claims = verified_claims(tokens, token, now)
    found = await sessions.session_with_account(claims.jti)
    if found is None:
        raise ServiceFailure(ErrorCode.UNAUTHORIZED)
    session, account = found
    if not session.live_at(now) or session.account_id != claims.account_id:
        raise ServiceFailure(ErrorCode.UNAUTHORIZED)
    return session, account
