"""An operator changes their password: the initial one from the enrolment first of all.

The citizens' rules apply, with the username in place of the ID number; a wrong current
password counts towards the lock. The operator's other sessions are revoked.
"""

from __future__ import annotations

from dataclasses import dataclass

from cardreg_shared.errors import ErrorCode, ServiceFailure
from cardreg_shared.models.common import Empty
from cardreg_shared.models.registry import OperatorPasswordChangeRequest

from ..domain.lockout import LockoutPolicy
from ..domain.passwords import normalise_password
from .new_password import refuse_weak
from .operator_bearer import operator_signed_in
from .ports import Clock, PasswordHashing, Storage, Tokens
from .retry import until_committed


@dataclass(frozen=True)
class ChangeOperatorPassword:
    storage: Storage
    hasher: PasswordHashing
    tokens: Tokens
    lockout: LockoutPolicy
    clock: Clock

    async def __call__(self, request: OperatorPasswordChangeRequest) -> Empty:
        current = normalise_password(request.current_password.get_secret_value())
        new = normalise_password(request.new_password.get_secret_value())
        new_hash: list[str] = []

        async def attempt() -> Empty:
            uow = self.storage.unit_of_work()
            session, operator = await operator_signed_in(
                uow,
                self.tokens,
                request.access_token.strip(),
                self.clock(),
                needs=None,
                allow_initial_password=True,
            )
            refuse_weak(new, operator.username)
            if not await self.hasher.verify(operator.password_hash, current):
                now = self.clock()
                operator.fail(now, self.lockout)
                uow.operators.save(operator)
                await uow.commit()
                raise ServiceFailure(ErrorCode.INVALID_CREDENTIALS)
            if not new_hash:
                new_hash.append(await self.hasher.hash(new))
            now = self.clock()
            operator.change_password(new_hash[0], now)
            uow.operators.save(operator)
            uow.sessions.revoke_operator(operator.operator_id, now, keep=session.session_id)
            await uow.commit()
            return Empty()

        return await until_committed(attempt)
