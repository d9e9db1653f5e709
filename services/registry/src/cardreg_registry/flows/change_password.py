"""FAQ 8: change the password, signed in (scope `account`), with the current one.

A wrong current password counts towards the same lockout as a wrong password at login
(flows/password_check.py), so a stolen session cannot be used to guess it. On success the
other sessions are revoked (the one making the change stays) and, when an email is on file,
a notice is queued: one commit with the new hash, guarded by the account's version.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from cardreg_shared.errors import ErrorCode, ServiceFailure
from cardreg_shared.models.common import Empty
from cardreg_shared.models.registry import PasswordChangeRequest

from ..domain.lockout import LockoutPolicy
from ..domain.passwords import normalise_password
from ..domain.scopes import Scope
from .bearer import signed_in
from .methods import session_origin
from .new_password import acceptable_new_password, password_changed_notice
from .password_check import PasswordCheck
from .ports import Clock, IdNumbers, PasswordHashing, Storage, Tokens
from .retry import until_committed

log = logging.getLogger("cardreg.registry.password_change")


def sign_in_again() -> ServiceFailure:
    """For an account from before ID numbers were kept as keyed hashes, not signed in since."""
    return ServiceFailure(
        ErrorCode.UNAUTHORIZED, "Sign in again with your card to change the password."
    )


@dataclass(frozen=True)
class ChangePassword:
    storage: Storage
    hasher: PasswordHashing
    tokens: Tokens
    id_numbers: IdNumbers
    lockout: LockoutPolicy
    clock: Clock

    async def __call__(self, request: PasswordChangeRequest) -> Empty:
        current = normalise_password(request.current_password.get_secret_value())
        check = PasswordCheck(self.hasher, self.lockout, self.clock)
        hashed: dict[str, str] = {}

        async def attempt() -> int:
            uow = self.storage.unit_of_work()
            session, account = await signed_in(
                uow, self.tokens, request.access_token, self.clock(), needs=Scope.ACCOUNT
            )
            origin = session_origin(session.method)
            await check(uow, account, current, origin)
            password = acceptable_new_password(
                request.new_password, account, self.id_numbers, missing_hash=sign_in_again
            )
            if password not in hashed:
                hashed[password] = await self.hasher.hash(password)

            now = self.clock()
            account.change_password(hashed[password], now, origin)
            uow.accounts.save(account)
            revoked = uow.sessions.revoke_all(account.account_id, now, keep=session.session_id)
            notice = password_changed_notice(account.email, account.language, "change", now)
            if notice is not None:
                uow.outbox.add(notice, now)
            await uow.commit()
            log.info(
                "password changed account_id=%s other_sessions_revoked=%d",
                account.account_id,
                revoked.count,
            )
            return revoked.count

        await until_committed(attempt)
        return Empty()
