"""FAQ 10-11: log in with the card and the password (two factors).

The answer for "no account", "wrong password" is the same `invalid_credentials`, after the
same argon2 work. Wrong passwords count towards an escalating lock (flows/password_check.py).
A login with a newer card of the same person binds that card (identity only vouches for a
holder's newest card, so a different number means a newer one).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from cardreg_shared.errors import ErrorCode, ServiceFailure
from cardreg_shared.models.registry import SessionCreateReply, SessionCreateRequest

from ..domain.lockout import LockoutPolicy
from ..domain.passwords import normalise_password
from .password_check import RESET_REQUIRED, PasswordCheck
from .ports import AccountStore, Clock, Identity, PasswordHashing, SessionStore, Tokens

log = logging.getLogger("cardreg.registry.login")

__all__ = ["RESET_REQUIRED", "CreateSession"]


@dataclass(frozen=True)
class CreateSession:
    identity: Identity
    accounts: AccountStore
    sessions: SessionStore
    hasher: PasswordHashing
    tokens: Tokens
    lockout: LockoutPolicy
    clock: Clock

    async def __call__(self, request: SessionCreateRequest) -> SessionCreateReply:
        holder = await self.identity.verify_card(request.card)
        password = normalise_password(request.password.get_secret_value())
        account = await self.accounts.account_by_person(holder.person_id)
        if account is None:
            await self.hasher.verify_dummy(password)
            raise ServiceFailure(ErrorCode.INVALID_CREDENTIALS)
        await PasswordCheck(self.accounts, self.hasher, self.lockout, self.clock)(account, password)
        if account.status != "active":
            raise ServiceFailure(ErrorCode.ACCOUNT_DEACTIVATED)

        now = self.clock()
        card_updated = holder.card_no != account.bound_card_no
        new_hash = (
            await self.hasher.hash(password)
            if self.hasher.needs_rehash(account.password_hash)
            else None
        )
        if card_updated or new_hash or account.failed_logins or account.locked_until:
            await self.accounts.record_login(
                account.account_id,
                now,
                card_no=holder.card_no if card_updated else None,
                password_hash=new_hash,
            )
        issued = self.tokens.issue(account.account_id, now)
        await self.sessions.add_session(issued.session(account.account_id))
        if card_updated:
            log.info("bound a newer card account_id=%s", account.account_id)
        return SessionCreateReply(
            access_token=issued.token,
            expires_in=int((issued.expires_at - issued.issued_at).total_seconds()),
            card_updated=card_updated,
        )
