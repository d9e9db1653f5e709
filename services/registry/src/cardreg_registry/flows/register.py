"""FAQ 4-5: register online with the card plus household (citizens) or residence-permit
(foreign residents) data that identity confirms; then set a password and optional contacts.

Cheap local checks run before the proof is sent to identity, so a weak password or a typo in
an email does not spend one of the person's limited verification attempts. Which proof the
request carries picks its method (flows/methods.py); the flow does not look at which it is.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from cardreg_shared.errors import ErrorCode, ServiceFailure
from cardreg_shared.models.registry import RegisterReply, RegisterRequest

from ..domain.accounts import Account, DuplicateAccount, Origin
from ..domain.contacts import normalise_email, normalise_phone
from ..domain.masking import mask_id_no
from ..domain.passwords import normalise_password
from .contact_input import optional_contact
from .methods import CARD, proof_in
from .new_password import refuse_weak
from .ports import Clock, Identity, IdNumbers, PasswordHashing, Storage

log = logging.getLogger("cardreg.registry.register")


@dataclass(frozen=True)
class Register:
    identity: Identity
    storage: Storage
    hasher: PasswordHashing
    id_numbers: IdNumbers
    clock: Clock

    async def __call__(self, request: RegisterRequest) -> RegisterReply:
        holder = await CARD.present(self.identity, request.card)
        uow = self.storage.unit_of_work()
        existing = await uow.accounts.by_person(holder.person_id)
        Account.may_register_online(existing)

        password = normalise_password(request.password.get_secret_value())
        refuse_weak(password, holder.id_no)
        email = optional_contact(request.email, normalise_email)
        phone = optional_contact(request.phone, normalise_phone)

        chosen = proof_in(request)
        if chosen is None:  # RegisterRequest requires exactly one: unreachable by contract
            raise ServiceFailure(ErrorCode.INVALID_REQUEST, "a household or residence proof")
        method, proof = chosen
        await method.verify(self.identity, holder.person_id, proof)

        account = Account.register_online(
            existing,
            person_id=holder.person_id,
            kind=holder.kind,
            id_no_masked=mask_id_no(holder.id_no),
            id_no_hash=self.id_numbers.fingerprint(holder.id_no),
            card_no=holder.card_no,
            password_hash=await self.hasher.hash(password),
            email=email,
            phone=phone,
            channel=request.channel,
            language=request.language,
            now=self.clock(),
            origin=Origin(channel=request.channel, method=f"card+{method.name}"),
        )
        uow.accounts.add(account)
        try:
            await uow.commit()
        except DuplicateAccount:  # a concurrent registration of the same person won
            raise ServiceFailure(ErrorCode.ALREADY_REGISTERED) from None
        log.info(
            "registered account_id=%s kind=%s channel=%s",
            account.account_id,
            account.kind,
            account.channel,
        )
        return RegisterReply(account_id=account.account_id, status=account.status)
