"""FAQ 12: "Have I registered?" — read the card, answer whether its holder has an account."""

from __future__ import annotations

from dataclasses import dataclass

from cardreg_shared.models.registry import LookupReply, LookupRequest

from .ports import AccountStore, Identity


@dataclass(frozen=True)
class LookupRegistration:
    identity: Identity
    accounts: AccountStore

    async def __call__(self, request: LookupRequest) -> LookupReply:
        holder = await self.identity.verify_card(request.card)
        account = await self.accounts.account_by_person(holder.person_id)
        if account is None:
            return LookupReply(registered=False, status=None)
        return LookupReply(registered=True, status=account.status)
