"""Who holds this operator token, and may they do this: the one check of every operator call.

Only an operator's session passes (a citizen's token is `unauthorized` here, as an operator's
is on the citizens' calls: `bearer.py` joins accounts, this joins operators); the operator must
be active, have changed the initial password, and hold one of the scopes the call takes.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from cardreg_shared.errors import ErrorCode, ServiceFailure

from ..domain.operators import Operator
from ..domain.scopes import Scope
from ..domain.sessions import Session
from .bearer import verified_claims
from .ports import Tokens, UnitOfWork


async def operator_signed_in(
    uow: UnitOfWork,
    tokens: Tokens,
    token: str,
    now: datetime,
    *,
    needs: Iterable[Scope] | None,
    allow_initial_password: bool = False,
) -> tuple[Session, Operator]:
    """The live operator session behind `token` and its operator, read through `uow`.
    `needs`: any one of these scopes will do (None: any operator)."""
    claims = await verified_claims(tokens, token, now)
    found = await uow.sessions.with_operator(claims.session_id)
    if found is None:
        raise ServiceFailure(ErrorCode.UNAUTHORIZED)
    session, operator = found
    if session.principal != claims.subject or not session.live_at(now):
        raise ServiceFailure(ErrorCode.UNAUTHORIZED)
    if not operator.active:
        raise ServiceFailure(ErrorCode.OPERATOR_DISABLED)
    if needs is not None:
        wanted = set(needs)
        if not (wanted & session.scopes & claims.scopes):
            raise ServiceFailure(ErrorCode.INSUFFICIENT_SCOPE)
    if operator.password_change_required and not allow_initial_password:
        raise ServiceFailure(ErrorCode.PASSWORD_CHANGE_REQUIRED)
    return session, operator
