"""The signed-in account's profile, identifiers masked (FAQ 9 shows it before a change).
Needs the `account` scope: a phone's session (passbook, counter) does not see it."""

from __future__ import annotations

from dataclasses import dataclass

from cardreg_shared.models.registry import AccountProfile, TokenRequest

from ..domain.accounts import Account
from ..domain.masking import mask_card_no, mask_email, mask_phone
from ..domain.scopes import Scope
from .bearer import signed_in
from .ports import Clock, Storage, Tokens


@dataclass(frozen=True)
class GetAccount:
    storage: Storage
    tokens: Tokens
    clock: Clock

    async def __call__(self, request: TokenRequest) -> AccountProfile:
        uow = self.storage.unit_of_work()
        _, account = await signed_in(
            uow, self.tokens, request.access_token, self.clock(), needs=Scope.ACCOUNT
        )
        return masked_profile(account)


def masked_profile(account: Account) -> AccountProfile:
    return AccountProfile(
        account_id=account.account_id,
        kind=account.kind,
        status=account.status,
        channel=account.channel,
        id_no=account.id_no_masked,
        card_no=mask_card_no(account.bound_card_no or ""),
        email=None if account.email is None else mask_email(account.email),
        phone=None if account.phone is None else mask_phone(account.phone),
        language=account.language,
        created_at=account.created_at,
        updated_at=account.updated_at,
    )
