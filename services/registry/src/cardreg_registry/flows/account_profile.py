"""The signed-in account's profile, identifiers masked (FAQ 9 shows it before a change)."""

from __future__ import annotations

from dataclasses import dataclass

from cardreg_shared.models.registry import AccountProfile, TokenRequest

from ..domain.accounts import Account
from ..domain.masking import mask_card_no, mask_email, mask_phone
from .bearer import signed_in_account
from .ports import Clock, SessionStore, Tokens


@dataclass(frozen=True)
class GetAccount:
    sessions: SessionStore
    tokens: Tokens
    clock: Clock

    async def __call__(self, request: TokenRequest) -> AccountProfile:
        account = await signed_in_account(
            self.tokens, self.sessions, request.access_token, self.clock()
        )
        return masked_profile(account)


def masked_profile(account: Account) -> AccountProfile:
    return AccountProfile(
        account_id=account.account_id,
        kind=account.kind,
        status=account.status,
        channel=account.channel,
        id_no=account.id_no_masked,
        card_no=mask_card_no(account.bound_card_no),
        email=None if account.email is None else mask_email(account.email),
        phone=None if account.phone is None else mask_phone(account.phone),
        language=account.language,
        created_at=account.created_at,
        updated_at=account.updated_at,
    )
