"""FAQ 8: change the password, signed in, with the current one.

A wrong current password counts towards the same lockout as a wrong password at login
(flows/password_check.py), so a stolen session cannot be used to guess it. On success the
other sessions are revoked (the one making the change stays) and, when an email is on file,
a notice is queued in the same transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from cardreg_shared.errors import ErrorCode, ServiceFailure
from cardreg_shared.models.common import Empty
from cardreg_shared.models.registry import PasswordChangeRequest

from ..domain.lockout import LockoutPolicy
from ..domain.passwords import normalise_password
from .bearer import signed_in_session
from .new_password import acceptable_new_password, password_changed_notice
from .password_check import PasswordCheck
from .ports import AccountStore, Clock, Identity, PasswordHashing, SessionStore, Tokens

log = logging.getLogger("cardreg.registry.password_change")


@dataclass(frozen=True)
class ChangePassword:
    identity: Identity
    accounts: AccountStore
    sessions: SessionStore
    hasher: PasswordHashing
    tokens: Tokens
    lockout: LockoutPolicy
    clock: Clock

    async def __call__(self, request: PasswordChangeRequest) -> Empty:
        session, account = await signed_in_session(
            self.tokens, self.sessions, request.access_token, self.clock()
        )
        current = normalise_password(request.current_password.get_secret_value())
        await PasswordCheck(self.accounts, self.hasher, self.lockout, self.clock)(account, current)
        if account.status != "active":
            raise ServiceFailure(ErrorCode.ACCOUNT_DEACTIVATED)

        password = await acceptable_new_password(
            self.identity, account.person_id, request.new_password
        )
        password_hash = await self.hasher.hash(password)

        now = self.clock()
        notice = password_changed_notice(account.email, account.language, "change", now)
        revoked = await self.accounts.change_password(
            account.account_id, password_hash, session.jti, now, notice
        )
        log.info(
            "password changed account_id=%s other_sessions_revoked=%d", account.account_id, revoked
        )
        return Empty()
