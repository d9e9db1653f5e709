"""Finishing a registration opened at a counter or by an employer: the setup code, the
person's own card (a fresh challenge, a valid signature) and a new password.

A wrong, used or expired code and someone else's card get the same `setup_invalid`, so the
answer does not tell which; a deactivated registration answers `account_deactivated` to its
own holder. The code is consumed in the commit that activates the account (of two concurrent
completions one wins), and the ID number's keyed hash is kept for the password rule.
"""

from __future__ import annotations

from dataclasses import dataclass

from cardreg_shared.errors import ErrorCode, ServiceFailure
from cardreg_shared.models.registry import RegisterReply, SetupCompleteRequest

from ..domain.accounts import Origin
from ..domain.lifecycle import Transition, can
from ..domain.masking import mask_id_no
from ..domain.passwords import normalise_password
from ..domain.setups import hash_setup_code
from .methods import CARD
from .new_password import refuse_weak
from .ports import Clock, Identity, IdNumbers, PasswordHashing, SetupSpent, Storage
from .retry import until_committed

SETUP_METHOD = "card+setup_code"


@dataclass(frozen=True)
class CompleteSetup:
    identity: Identity
    storage: Storage
    hasher: PasswordHashing
    id_numbers: IdNumbers
    clock: Clock

    async def __call__(self, request: SetupCompleteRequest) -> RegisterReply:
        password = normalise_password(request.password.get_secret_value())
        code_hash = hash_setup_code(request.code)
        setup = await self.storage.unit_of_work().setups.by_hash(code_hash)
        if setup is None:
            raise ServiceFailure(ErrorCode.SETUP_INVALID)
        holder = await CARD.present(self.identity, request.card)
        refuse_weak(password, holder.id_no)
        hashed: list[str] = []

        async def attempt() -> RegisterReply:
            uow = self.storage.unit_of_work()
            account = await uow.accounts.by_id(setup.account_id)
            if account is None or account.person_id != holder.person_id:
                raise ServiceFailure(ErrorCode.SETUP_INVALID)
            if account.status == "deactivated":
                raise ServiceFailure(ErrorCode.ACCOUNT_DEACTIVATED)
            now = self.clock()
            if not setup.usable_at(now) or not can(account.status, Transition.COMPLETE_SETUP):
                raise ServiceFailure(ErrorCode.SETUP_INVALID)
            if not hashed:
                hashed.append(await self.hasher.hash(password))
            origin = Origin(account.channel, SETUP_METHOD)
            account.identify_by(self.id_numbers.fingerprint(holder.id_no), mask_id_no(holder.id_no))
            account.complete_setup(
                card_no=holder.card_no, password_hash=hashed[0], now=now, origin=origin
            )
            uow.setups.consume(code_hash, now)
            uow.accounts.save(account)
            try:
                await uow.commit()
            except SetupSpent:
                raise ServiceFailure(ErrorCode.SETUP_INVALID) from None
            return RegisterReply(account_id=account.account_id, status=account.status)

        return await until_committed(attempt)
