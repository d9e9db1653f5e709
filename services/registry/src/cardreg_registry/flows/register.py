"""FAQ 4-5: register online with the card plus household (citizens) or residence-permit
(foreign residents) data that identity confirms; then set a password and optional contacts.

Cheap local checks run before the proof is sent to identity, so a weak password or a typo in
an email does not spend one of the person's limited verification attempts.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass

from cardreg_shared.errors import ErrorCode, ServiceFailure
from cardreg_shared.models.registry import RegisterReply, RegisterRequest

from ..domain.accounts import Account, DuplicateAccount
from ..domain.contacts import normalise_email, normalise_phone
from ..domain.masking import mask_id_no
from ..domain.passwords import normalise_password
from .contact_input import optional_contact
from .new_password import refuse_weak
from .ports import AccountStore, Clock, Identity, PasswordHashing

log = logging.getLogger("cardreg.registry.register")


@dataclass(frozen=True)
class Register:
    identity: Identity
    accounts: AccountStore
    hasher: PasswordHashing
    clock: Clock

    async def __call__(self, request: RegisterRequest) -> RegisterReply:
        holder = await self.identity.verify_card(request.card)
        existing = await self.accounts.account_by_person(holder.person_id)
        if existing is not None:
            raise _already_registered(existing)

        password = normalise_password(request.password.get_secret_value())
        refuse_weak(password, holder.id_no)
        email, phone = _contacts(request)

        await self.identity.verify_proof(holder.person_id, request.household or request.residence)

        password_hash = await self.hasher.hash(password)
        now = self.clock()
        account = Account(
            account_id=new_account_id(),
            person_id=holder.person_id,
            kind=holder.kind,
            id_no_masked=mask_id_no(holder.id_no),
            bound_card_no=holder.card_no,
            password_hash=password_hash,
            email=email,
            phone=phone,
            status="active",
            channel=request.channel,
            failed_logins=0,
            locked_until=None,
            created_at=now,
            updated_at=now,
            language=request.language,
        )
        try:
            await self.accounts.add_account(account)
        except DuplicateAccount:
            raise ServiceFailure(ErrorCode.ALREADY_REGISTERED) from None
        log.info(
            "registered account_id=%s kind=%s channel=%s",
            account.account_id,
            account.kind,
            account.channel,
        )
        return RegisterReply(account_id=account.account_id, status=account.status)


def new_account_id() -> str:
    """Opaque and random: it says nothing about the person and cannot be enumerated."""
    return secrets.token_urlsafe(16)


def _already_registered(account: Account) -> ServiceFailure:
    # FAQ 13: a deactivated registration can not be registered online again.
    if account.status == "deactivated":
        return ServiceFailure(ErrorCode.ACCOUNT_DEACTIVATED)
    return ServiceFailure(ErrorCode.ALREADY_REGISTERED)


def _contacts(request: RegisterRequest) -> tuple[str | None, str | None]:
    return optional_contact(request.email, normalise_email), optional_contact(
        request.phone, normalise_phone
    )
