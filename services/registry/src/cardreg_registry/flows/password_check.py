"""The password check of login and of password change (FAQ 8): one lockout for both.

A locked account is refused before the password is looked at. A wrong password counts
towards the escalating lock (domain/lockout.py); the failure that sets a lock already
answers `account_locked`.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from cardreg_shared.errors import ErrorCode, ServiceFailure

from ..domain.accounts import Account
from ..domain.lockout import LockoutPolicy
from .ports import AccountStore, Clock, PasswordHashing

log = logging.getLogger("cardreg.registry.lockout")

RESET_REQUIRED = "password_reset_required"


@dataclass(frozen=True)
class PasswordCheck:
    accounts: AccountStore
    hasher: PasswordHashing
    lockout: LockoutPolicy
    clock: Clock

    async def __call__(self, account: Account, password: str) -> None:
        """Return when `password` (normalised) is the account's; raise `account_locked` or
        `invalid_credentials` otherwise."""
        self.refuse_if_locked(account, self.clock())
        if not await self.hasher.verify(account.password_hash, password):
            raise await self._wrong_password(account)

    def refuse_if_locked(self, account: Account, now: datetime) -> None:
        if self.lockout.needs_reset(account.failed_logins):
            raise locked(None)
        if account.locked_at(now):
            raise locked(account.locked_until - now)

    async def _wrong_password(self, account: Account) -> ServiceFailure:
        failures = await self.accounts.record_failed_login(
            account.account_id, self.lockout.hard_limit
        )
        now = self.clock()
        until = self.lockout.locked_until(failures, now)
        if until is None:
            return ServiceFailure(ErrorCode.INVALID_CREDENTIALS)
        await self.accounts.lock(account.account_id, until, failures)
        log.info("account locked account_id=%s failures=%d", account.account_id, failures)
        return locked(None if self.lockout.needs_reset(failures) else until - now)


def locked(remaining: timedelta | None) -> ServiceFailure:
    """A timed lock says when to retry; the final lock says only a password reset helps."""
    if remaining is None:
        return ServiceFailure(
            ErrorCode.ACCOUNT_LOCKED,
            "Too many wrong passwords; reset the password to unlock the account.",
            reason=RESET_REQUIRED,
        )
    return ServiceFailure(
        ErrorCode.ACCOUNT_LOCKED, retry_after=max(1, math.ceil(remaining.total_seconds()))
    )
