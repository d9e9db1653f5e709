"""The password check of login and of password change (FAQ 8): one lockout for both.

A locked account is refused before the password is looked at. A wrong password counts
towards the escalating lock (domain/lockout.py); the failure that sets a lock already
answers `account_locked`. Either way the attempt is an event, written with the count in the
caller's unit of work, which this commits before it raises.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from datetime import timedelta

from cardreg_shared.errors import ErrorCode, ServiceFailure

from ..domain.accounts import Account, Origin
from ..domain.lockout import LockoutPolicy
from ..metrics import LOCKS
from .ports import Clock, PasswordHashing, UnitOfWork

log = logging.getLogger("cardreg.registry.lockout")

RESET_REQUIRED = "password_reset_required"


@dataclass
class PasswordCheck:
    """One per request: it remembers its verdicts, so deciding again after a conflicting
    commit does not hash the same password against the same hash twice."""

    hasher: PasswordHashing
    lockout: LockoutPolicy
    clock: Clock
    _verdicts: dict[str, bool] = field(default_factory=dict)

    async def __call__(
        self, uow: UnitOfWork, account: Account, password: str, origin: Origin
    ) -> None:
        """Return when `password` (normalised) is the account's; otherwise record the attempt
        in `uow`, commit it, and raise `account_locked` or `invalid_credentials`."""
        now = self.clock()
        if self.lockout.needs_reset(account.failed_logins) or account.locked_at(now):
            account.login_refused(now, origin, ErrorCode.ACCOUNT_LOCKED)
            await uow.commit()
            raise self._locked(account, now)
        if await self._verified(account.password_hash or "", password):
            return
        now = self.clock()
        until = account.fail_password(now, origin, self.lockout)
        uow.accounts.save(account)
        await uow.commit()
        if until is None:
            raise ServiceFailure(ErrorCode.INVALID_CREDENTIALS)
        LOCKS.inc()
        log.info(
            "account locked account_id=%s failures=%d", account.account_id, account.failed_logins
        )
        raise self._locked(account, now)

    def _locked(self, account: Account, now) -> ServiceFailure:
        if self.lockout.needs_reset(account.failed_logins):
            return locked(None)
        return locked(account.locked_until - now)

    async def _verified(self, password_hash: str, password: str) -> bool:
        if password_hash not in self._verdicts:
            self._verdicts[password_hash] = await self.hasher.verify(password_hash, password)
        return self._verdicts[password_hash]


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
