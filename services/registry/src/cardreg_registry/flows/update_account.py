"""FAQ 9: change the email, the phone or the mail language, signed in.

A field left out (None) stays; "" removes the email or phone. Values pass the same rules as
at registration (domain/contacts.py) and are stored normalised. When the email changes and
there was one, the OLD address gets a notice showing the new one masked: the owner hears of
a change they did not make. The change and the notice are one transaction, planned against
the account as it is inside that transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime

from cardreg_shared.errors import ErrorCode, ServiceFailure
from cardreg_shared.models.mail import EmailChangedMail
from cardreg_shared.models.registry import AccountProfile, AccountUpdateRequest
from cardreg_shared.subjects import MAIL_EMAIL_CHANGED

from ..domain.accounts import Account, ProfileChange
from ..domain.contacts import normalise_email, normalise_phone
from ..domain.masking import mask_email
from ..domain.outbox import OutboxMessage, new_request_id
from .account_profile import masked_profile
from .bearer import signed_in_account
from .contact_input import optional_contact
from .ports import AccountStore, Clock, SessionStore, Tokens

log = logging.getLogger("cardreg.registry.account_update")

_KEEP = object()


@dataclass(frozen=True)
class UpdateAccount:
    accounts: AccountStore
    sessions: SessionStore
    tokens: Tokens
    clock: Clock

    async def __call__(self, request: AccountUpdateRequest) -> AccountProfile:
        account = await signed_in_account(
            self.tokens, self.sessions, request.access_token, self.clock()
        )
        # Validate before touching anything: a bad value changes nothing.
        email = _KEEP if request.email is None else optional_contact(request.email, normalise_email)
        phone = _KEEP if request.phone is None else optional_contact(request.phone, normalise_phone)
        now = self.clock()

        def plan(current: Account) -> ProfileChange:
            change = ProfileChange(
                email=current.email if email is _KEEP else email,
                phone=current.phone if phone is _KEEP else phone,
                language=request.language or current.language,
            )
            return _with_notice(current, change, now)

        updated = await self.accounts.update_profile(account.account_id, plan, now)
        if updated is None:
            raise ServiceFailure(ErrorCode.UNAUTHORIZED)
        log.info("account settings saved account_id=%s", updated.account_id)
        return masked_profile(updated)


def _with_notice(current: Account, change: ProfileChange, now: datetime) -> ProfileChange:
    if current.email is None or change.email == current.email:
        return change
    notice = EmailChangedMail(
        request_id=new_request_id(),
        to=current.email,
        language=change.language,
        requested_at=now,
        new_email_masked=None if change.email is None else mask_email(change.email),
    )
    return replace(change, notice=OutboxMessage.mail(MAIL_EMAIL_CHANGED, notice))
