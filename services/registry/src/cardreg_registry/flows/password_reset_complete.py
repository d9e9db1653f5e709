"""FAQ 7, second half: set a new password with the token from the mailed link.

Unknown, used, voided or expired tokens all answer `reset_token_invalid`. The password rules
are checked before the token is consumed, so a weak password does not burn the link. Then,
in one transaction: the token is consumed (a guarded UPDATE: of concurrent completions
exactly one wins), the new hash stored, the login lock lifted (a reset is the way out of the
final lock), a proven pending email adopted, every session revoked, and a notice queued.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from cardreg_shared.errors import ErrorCode, ServiceFailure
from cardreg_shared.models.common import Empty
from cardreg_shared.models.registry import PasswordResetComplete

from ..domain.reset_tokens import hash_reset_secret
from .new_password import acceptable_new_password, password_changed_notice
from .ports import Clock, Identity, PasswordHashing, ResetStore

log = logging.getLogger("cardreg.registry.password_reset")


@dataclass(frozen=True)
class CompletePasswordReset:
    identity: Identity
    resets: ResetStore
    hasher: PasswordHashing
    clock: Clock

    async def __call__(self, request: PasswordResetComplete) -> Empty:
        token_hash = hash_reset_secret(request.token)
        token = await self.resets.reset_token(token_hash)
        if token is None or not token.usable_at(self.clock()):
            raise ServiceFailure(ErrorCode.RESET_TOKEN_INVALID)
        account = await self.resets.account_by_id(token.account_id)
        if account is None:
            raise ServiceFailure(ErrorCode.RESET_TOKEN_INVALID)
        if account.status != "active":
            raise ServiceFailure(ErrorCode.ACCOUNT_DEACTIVATED)

        password = await acceptable_new_password(
            self.identity, account.person_id, request.new_password
        )
        password_hash = await self.hasher.hash(password)

        now = self.clock()
        address = token.pending_email or account.email
        notice = password_changed_notice(address, account.language, "reset", now)
        if not await self.resets.complete_reset(token_hash, password_hash, now, notice):
            raise ServiceFailure(ErrorCode.RESET_TOKEN_INVALID)
        log.info("password reset completed account_id=%s; sessions revoked", account.account_id)
        return Empty()
