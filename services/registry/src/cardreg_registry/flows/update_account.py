"""FAQ 9: change the email, the phone or the mail language, signed in (scope `account`).

A field left out (None) stays; "" removes the email or phone. Values pass the same rules as
at registration (domain/contacts.py) and are stored normalised. When the email changes and
there was one, the OLD address gets a notice showing the new one masked: the owner hears of
a change they did not make. The change and the notice are one commit, guarded by the
account's version, so the notice always goes to the address that was really on file.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from cardreg_shared.models.common import Language
from cardreg_shared.models.mail import EmailChangedMail
from cardreg_shared.models.registry import AccountProfile, AccountUpdateRequest
from cardreg_shared.subjects import MAIL_EMAIL_CHANGED

from ..domain.accounts import Account
from ..domain.contacts import normalise_email, normalise_phone
from ..domain.masking import mask_email
from ..domain.outbox import OutboxMessage, new_request_id
from ..domain.scopes import Scope
from .account_profile import masked_profile
from .bearer import signed_in
from .contact_input import optional_contact
from .methods import session_origin
from .ports import Clock, Storage, Tokens
from .retry import until_committed

log = logging.getLogger("cardreg.registry.account_update")

_KEEP = object()


@dataclass(frozen=True)
class UpdateAccount:
    storage: Storage
    tokens: Tokens
    clock: Clock

    async def __call__(self, request: AccountUpdateRequest) -> AccountProfile:
        # Validate before touching anything: a bad value changes nothing.
        email = _KEEP if request.email is None else optional_contact(request.email, normalise_email)
        phone = _KEEP if request.phone is None else optional_contact(request.phone, normalise_phone)

        async def attempt() -> Account:
            uow = self.storage.unit_of_work()
            session, account = await signed_in(
                uow, self.tokens, request.access_token, self.clock(), needs=Scope.ACCOUNT
            )
            now, before = self.clock(), account.email
            changed = account.change_settings(
                now,
                session_origin(session.method),
                email=account.email if email is _KEEP else email,
                phone=account.phone if phone is _KEEP else phone,
                language=request.language or account.language,
            )
            if changed:
                uow.accounts.save(account)
                notice = _email_changed_notice(before, account.email, account.language, now)
                if notice is not None:
                    uow.outbox.add(notice, now)
                await uow.commit()
            return account

        updated = await until_committed(attempt)
        log.info("account settings saved account_id=%s", updated.account_id)
        return masked_profile(updated)


def _email_changed_notice(
    old: str | None, new: str | None, language: Language, now: datetime
) -> OutboxMessage | None:
    if old is None or new == old:
        return None
    notice = EmailChangedMail(
        request_id=new_request_id(),
        to=old,
        language=language,
        requested_at=now,
        new_email_masked=None if new is None else mask_email(new),
    )
    return OutboxMessage.mail(MAIL_EMAIL_CHANGED, notice)
