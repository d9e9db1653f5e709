"""Managing operators: enrol, list, disable (the first admin from `cardreg operator`, later
admins through the operator API as well).

An enrolment makes an initial password (to change at first login) and a TOTP secret, and hands
them out once, as the password and an `otpauth://` URI: the registry keeps only the password's
hash and the secret sealed. Disabling revokes every session of the operator at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cardreg_shared.errors import ErrorCode, ServiceFailure
from cardreg_shared.models.registry import OperatorRole

from ..domain import totp
from ..domain.operators import DuplicateOperator, Operator, OperatorInputError, initial_password
from .ports import Clock, PasswordHashing, Storage
from .retry import until_committed


@dataclass(frozen=True)
class Enrolment:
    operator: Operator
    password: str = field(repr=False)
    otpauth_uri: str = field(repr=False)


@dataclass(frozen=True)
class ManageOperators:
    storage: Storage
    hasher: PasswordHashing
    clock: Clock

    async def enrol(
        self,
        *,
        username: str,
        role: OperatorRole,
        unit_id: str | None,
        actor: str | None = None,
    ) -> Enrolment:
        """`invalid_request` for a role and unit that do not fit; `already_registered` for a
        username that is taken."""
        password, secret = initial_password(), totp.new_secret()
        try:
            operator = Operator.enrol(
                username=username,
                role=role,
                unit_id=unit_id,
                password_hash=await self.hasher.hash(password),
                totp_secret=secret,
                now=self.clock(),
                actor=actor,
            )
        except OperatorInputError as exc:
            raise ServiceFailure(ErrorCode.INVALID_REQUEST, str(exc)) from None
        async with self.storage.unit_of_work() as uow:
            uow.operators.add(operator)
            try:
                await uow.commit()
            except DuplicateOperator:
                raise ServiceFailure(
                    ErrorCode.ALREADY_REGISTERED, "This username is taken."
                ) from None
        return Enrolment(operator, password, totp.enrolment_uri(secret, username))

    async def list(self) -> list[Operator]:
        return await self.storage.unit_of_work().operators.all()

    async def disable(self, username: str, *, actor: str | None = None) -> Operator:
        """`not_found` for an unknown username; disabling twice changes nothing."""

        async def attempt() -> Operator:
            uow = self.storage.unit_of_work()
            operator = await uow.operators.by_username(username)
            if operator is None:
                raise ServiceFailure(ErrorCode.NOT_FOUND, "No operator has this username.")
            now = self.clock()
            if operator.disable(now, actor=actor):
                uow.operators.save(operator)
                uow.sessions.revoke_operator(operator.operator_id, now)
                await uow.commit()
            return operator

        return await until_committed(attempt)
