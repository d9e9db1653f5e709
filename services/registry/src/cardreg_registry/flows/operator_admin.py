"""Managing operators: enrol, list, disable (the first admin from `cardreg operator`, later
admins through the operator API as well).

An enrolment makes an initial password (to change at first login) and a TOTP secret, and hands
them out once, as the password and an `otpauth://` URI: the registry keeps only the password's
hash and the secret sealed. Disabling revokes every session of the operator at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cardreg_shared.errors import ErrorCode, ServiceFailure
from cardreg_shared.models.registry import (
    OperatorAddRequest,
    OperatorDisableRequest,
    OperatorEnrolment,
    OperatorInfo,
    OperatorListReply,
    OperatorListRequest,
    OperatorResetRequest,
    OperatorRole,
)

from ..domain import totp
from ..domain.operators import DuplicateOperator, Operator, OperatorInputError, initial_password
from ..domain.scopes import Scope
from .operator_bearer import operator_signed_in
from .ports import Clock, PasswordHashing, Storage, Tokens
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

    async def reset(self, username: str, *, actor: str | None = None) -> Enrolment:
        """A new enrolment for an operator who lost the authenticator or the password, or
        hit the lockout's hard limit: new initial password and TOTP secret, unlocked, every
        session revoked. `not_found` for an unknown username."""
        password, secret = initial_password(), totp.new_secret()
        password_hash = await self.hasher.hash(password)

        async def attempt() -> Operator:
            uow = self.storage.unit_of_work()
            operator = await uow.operators.by_username(username)
            if operator is None:
                raise ServiceFailure(ErrorCode.NOT_FOUND, "No operator has this username.")
            now = self.clock()
            operator.reset_enrolment(password_hash, secret, now, actor=actor)
            uow.operators.save(operator)
            uow.sessions.revoke_operator(operator.operator_id, now)
            await uow.commit()
            return operator

        operator = await until_committed(attempt)
        return Enrolment(operator, password, totp.enrolment_uri(secret, username))

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


def info(operator: Operator) -> OperatorInfo:
    return OperatorInfo(
        operator_id=operator.operator_id,
        username=operator.username,
        role=operator.role,
        unit_id=operator.unit_id,
        status=operator.status,
        created_at=operator.created_at,
    )


@dataclass(frozen=True)
class OperatorAdmin:
    """The same management on the bus, for an admin's token only."""

    manage: ManageOperators
    tokens: Tokens

    async def _admin(self, token: str) -> Operator:
        uow = self.manage.storage.unit_of_work()
        _, admin = await operator_signed_in(
            uow, self.tokens, token.strip(), self.manage.clock(), needs=(Scope.OPERATOR_ADMIN,)
        )
        return admin

    async def add(self, request: OperatorAddRequest) -> OperatorEnrolment:
        admin = await self._admin(request.access_token)
        enrolment = await self.manage.enrol(
            username=request.username,
            role=request.role,
            unit_id=request.unit_id,
            actor=admin.operator_id,
        )
        return _shown_once(enrolment)

    async def reset(self, request: OperatorResetRequest) -> OperatorEnrolment:
        """As `cardreg operator reset`: a new enrolment, the admin recorded as its actor."""
        admin = await self._admin(request.access_token)
        return _shown_once(await self.manage.reset(request.username, actor=admin.operator_id))

    async def list_all(self, request: OperatorListRequest) -> OperatorListReply:
        await self._admin(request.access_token)
        return OperatorListReply(operators=[info(o) for o in await self.manage.list()])

    async def disable(self, request: OperatorDisableRequest) -> OperatorInfo:
        admin = await self._admin(request.access_token)
        return info(await self.manage.disable(request.username, actor=admin.operator_id))


def _shown_once(enrolment: Enrolment) -> OperatorEnrolment:
    operator = enrolment.operator
    return OperatorEnrolment(
        operator_id=operator.operator_id,
        username=operator.username,
        role=operator.role,
        unit_id=operator.unit_id,
        password=enrolment.password,
        otpauth_uri=enrolment.otpauth_uri,
    )
