"""FAQ 7, second half: set a new password with the token from the mailed link.

Unknown, used, voided or expired tokens all answer `reset_token_invalid`. The password rules
are checked before the token is consumed, so a weak password does not burn the link. Then one
commit: the token consumed (a guarded update: of concurrent completions exactly one wins), the
new hash stored, the login lock lifted (a reset is the way out of the final lock), a proven
pending email adopted, every session revoked, a notice queued, the events written.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from cardreg_shared.errors import ErrorCode, ServiceFailure
from cardreg_shared.models.common import Empty
from cardreg_shared.models.registry import PasswordResetComplete

from ..domain.accounts import Origin
from ..domain.lifecycle import Activity
from ..domain.reset_tokens import hash_reset_secret
from .new_password import acceptable_new_password, password_changed_notice
from .ports import Clock, IdNumbers, PasswordHashing, ResetTokenSpent, Storage
from .retry import until_committed

log = logging.getLogger("cardreg.registry.password_reset")

RESET_LINK = Origin(channel="online", method="reset_link")


def invalid_link() -> ServiceFailure:
    return ServiceFailure(ErrorCode.RESET_TOKEN_INVALID)


def request_a_new_link() -> ServiceFailure:
    """For an account from before ID numbers were kept as keyed hashes whose card was not seen
    since: asking for a new link (with the card) lets the password rule be checked."""
    return ServiceFailure(
        ErrorCode.RESET_TOKEN_INVALID, "Request a new reset link with your card; this one is void."
    )


@dataclass(frozen=True)
class CompletePasswordReset:
    storage: Storage
    hasher: PasswordHashing
    id_numbers: IdNumbers
    clock: Clock

    async def __call__(self, request: PasswordResetComplete) -> Empty:
        token_hash = hash_reset_secret(request.token)
        hashed: dict[str, str] = {}

        async def attempt() -> str:
            uow = self.storage.unit_of_work()
            token = await uow.reset_tokens.by_hash(token_hash)
            if token is None or not token.usable_at(self.clock()):
                raise invalid_link()
            account = await uow.accounts.by_id(token.account_id)
            if account is None:
                raise invalid_link()
            account.require(Activity.RESET_PASSWORD)
            password = acceptable_new_password(
                request.new_password, account, self.id_numbers, missing_hash=request_a_new_link
            )
            if password not in hashed:
                hashed[password] = await self.hasher.hash(password)

            now = self.clock()
            address = token.pending_email or account.email
            account.reset_password(
                hashed[password], now, RESET_LINK, proven_email=token.pending_email
            )
            uow.reset_tokens.consume(token_hash, now)
            uow.accounts.save(account)
            uow.sessions.revoke_all(account.account_id, now)
            notice = password_changed_notice(address, account.language, "reset", now)
            if notice is not None:
                uow.outbox.add(notice, now)
            try:
                await uow.commit()
            except ResetTokenSpent:  # a concurrent completion (or the clock) got there first
                raise invalid_link() from None
            return account.account_id

        account_id = await until_committed(attempt)
        log.info("password reset completed account_id=%s; sessions revoked", account_id)
        return Empty()
