"""FAQ 12: "Have I registered?" — read the card, answer whether its holder has an account.

A person deactivated at a counter without ever having had an account is not registered, but
the answer says `deactivated`: that is why registering online will not work for them.
"""

from __future__ import annotations

from dataclasses import dataclass

from cardreg_shared.models.registry import LookupReply, LookupRequest

from .ports import Identity, Storage


@dataclass(frozen=True)
class LookupRegistration:
    identity: Identity
    storage: Storage

    async def __call__(self, request: LookupRequest) -> LookupReply:
        holder = await self.identity.verify_card(request.card)
        account = await self.storage.unit_of_work().accounts.by_person(holder.person_id)
        if account is None:
            return LookupReply(registered=False, status=None)
        return LookupReply(registered=account.is_registered, status=account.status)
