"""Who holds this access token, and may they do this: the one check every bearer flow makes.

A token we signed, unexpired, whose session is live, of an account whose state lets it use a
session (a deactivated account's tokens answer `account_deactivated`, DESIGN), with the
scope the flow needs (`insufficient_scope` otherwise, 403 at the gateway).
"""

from __future__ import annotations

from datetime import datetime

from cardreg_shared.errors import ErrorCode, ServiceFailure

from ..domain.accounts import Account
from ..domain.lifecycle import Activity
from ..domain.scopes import Scope
from ..domain.sessions import Session, TokenClaims
from .ports import Tokens, UnitOfWork


async def verified_claims(tokens: Tokens, token: str, now: datetime) -> TokenClaims:
    claims = await tokens.verify(token, now)
    if claims is None:
        raise ServiceFailure(ErrorCode.UNAUTHORIZED)
    return claims


async def signed_in(
    uow: UnitOfWork, tokens: Tokens, token: str, now: datetime, *, needs: Scope | None
) -> tuple[Session, Account]:
    """The live session behind `token` and its account, read through `uow`."""
    claims = await verified_claims(tokens, token, now)
    found = await uow.sessions.with_account(claims.session_id)
    if found is None:
        raise ServiceFailure(ErrorCode.UNAUTHORIZED)
    session, account = found
    if session.principal != claims.subject:
        raise ServiceFailure(ErrorCode.UNAUTHORIZED)
    account.require(Activity.USE_SESSION)
    if not session.live_at(now):
        raise ServiceFailure(ErrorCode.UNAUTHORIZED)
    require_scope(session, claims, needs)
    return session, account


def require_scope(session: Session, claims: TokenClaims, scope: Scope | None) -> None:
    """The token and its session must both grant `scope` (None: any session will do)."""
    if scope is not None and not (scope in session.scopes and scope in claims.scopes):
        raise ServiceFailure(ErrorCode.INSUFFICIENT_SCOPE)
