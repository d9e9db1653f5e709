"""An operator logs in: username, password and a TOTP code (DESIGN "Counters and employers").

Unknown username, wrong password, wrong code and a code already used answer the same
`invalid_credentials`, after the same argon2 work; every wrong password or code counts towards
the citizens' escalating lock. The accepted code's time step is stored with the session in one
commit guarded by the operator's version, so the same code never opens two sessions, however
the requests race. The token carries `operator:<role>` and the operator's opaque id.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime

from cardreg_shared.errors import ErrorCode, ServiceFailure
from cardreg_shared.models.registry import OperatorSessionCreateReply, OperatorSessionCreateRequest

from ..domain import totp
from ..domain.lockout import LockoutPolicy
from ..domain.operators import OPERATOR_AMR, OPERATOR_METHOD, Operator
from ..domain.passwords import normalise_password
from ..domain.sessions import Session, new_session_id
from .ports import Clock, PasswordHashing, Storage, Tokens
from .retry import until_committed

log = logging.getLogger("cardreg.registry.operators")

ADMIN_RESET_REQUIRED = "admin_reset_required"


@dataclass(frozen=True)
class CreateOperatorSession:
    storage: Storage
    hasher: PasswordHashing
    tokens: Tokens
    lockout: LockoutPolicy
    clock: Clock

    async def __call__(self, request: OperatorSessionCreateRequest) -> OperatorSessionCreateReply:
        password = normalise_password(request.password.get_secret_value())
        verdicts: dict[str, bool] = {}

        async def attempt() -> OperatorSessionCreateReply:
            return await self._attempt(request, password, verdicts)

        return await until_committed(attempt)

    async def _attempt(
        self, request: OperatorSessionCreateRequest, password: str, verdicts: dict[str, bool]
    ) -> OperatorSessionCreateReply:
        uow = self.storage.unit_of_work()
        operator = await uow.operators.by_username(request.username)
        if operator is None:
            await self.hasher.verify_dummy(password)
            raise ServiceFailure(ErrorCode.INVALID_CREDENTIALS)
        now = self.clock()
        if self.lockout.needs_reset(operator.failed_logins) or operator.locked_at(now):
            operator.login_refused(now, ErrorCode.ACCOUNT_LOCKED)
            await uow.commit()
            raise self._locked(operator, now)
        if operator.password_hash not in verdicts:
            verdicts[operator.password_hash] = await self.hasher.verify(
                operator.password_hash, password
            )
        now = self.clock()
        step = totp.accepted_step(operator.totp_secret, request.totp, now, operator.totp_last_step)
        if not verdicts[operator.password_hash] or step is None:
            until = operator.fail(now, self.lockout)
            uow.operators.save(operator)
            await uow.commit()
            if until is None:
                raise ServiceFailure(ErrorCode.INVALID_CREDENTIALS)
            log.info("operator locked operator_id=%s", operator.operator_id)
            raise self._locked(operator, now)
        rehash = None
        if self.hasher.needs_rehash(operator.password_hash):
            rehash = await self.hasher.hash(password)
        try:
            operator.log_in(now, step, password_hash=rehash)
        except ServiceFailure:  # disabled: both factors right, still no session
            await uow.commit()
            raise
        session = operator_session(operator, now, self.tokens)
        issued = self.tokens.issue(session)
        uow.operators.save(operator)
        uow.sessions.add(session)
        await uow.commit()
        return OperatorSessionCreateReply(
            access_token=issued.token,
            expires_in=int((issued.expires_at - issued.issued_at).total_seconds()),
            role=operator.role,
            password_change_required=operator.password_change_required,
        )

    def _locked(self, operator: Operator, now: datetime) -> ServiceFailure:
        if self.lockout.needs_reset(operator.failed_logins) or operator.locked_until is None:
            return ServiceFailure(
                ErrorCode.ACCOUNT_LOCKED,
                "Too many failed logins; an administrator must enrol this operator again.",
                reason=ADMIN_RESET_REQUIRED,
            )
        remaining = (operator.locked_until - now).total_seconds()
        return ServiceFailure(ErrorCode.ACCOUNT_LOCKED, retry_after=max(1, math.ceil(remaining)))


def operator_session(operator: Operator, now: datetime, tokens: Tokens) -> Session:
    issued_at = now.replace(microsecond=0)
    return Session(
        session_id=new_session_id(),
        account_id=None,
        operator_id=operator.operator_id,
        issued_at=issued_at,
        expires_at=issued_at + tokens.ttl,
        method=OPERATOR_METHOD,
        amr=OPERATOR_AMR,
        scopes=frozenset({operator.scope}),
    )
