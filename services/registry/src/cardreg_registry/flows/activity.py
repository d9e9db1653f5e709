"""The holder's own activity (DESIGN "The holder's own activity"), and an account's audit
events as a counter clerk or an admin reads them.

Newest first, paged by an opaque cursor (the position of the last event shown). The holder
sees where an action came in (`counter`, `employer`, `online`, ...) and how the actor proved
who they were, never which operator: so a holder notices misuse, and no clerk is named.
"""

from __future__ import annotations

from dataclasses import dataclass

from cardreg_shared.errors import ErrorCode, ServiceFailure
from cardreg_shared.models.common import b64url_decode, b64url_encode
from cardreg_shared.models.registry import (
    AccountEventsReply,
    AccountEventsRequest,
    ActivityEntry,
    ActivityReply,
    ActivityRequest,
)

from ..domain.scopes import Scope
from .bearer import signed_in
from .operator_bearer import operator_signed_in
from .ports import Clock, Storage, Tokens


def _position(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    try:
        return int(b64url_decode(cursor).decode("ascii"))
    except (ValueError, UnicodeDecodeError):
        raise ServiceFailure(ErrorCode.INVALID_REQUEST, "before: not a cursor of ours") from None


def _cursor(position: int) -> str:
    return b64url_encode(str(position).encode("ascii"))


@dataclass(frozen=True)
class AccountActivity:
    storage: Storage
    tokens: Tokens
    clock: Clock

    async def __call__(self, request: ActivityRequest) -> ActivityReply:
        before = _position(request.before)
        uow = self.storage.unit_of_work()
        # `passbook` comes with every login (card or phone), `account` only with the card.
        _, account = await signed_in(
            uow, self.tokens, request.access_token.strip(), self.clock(), needs=Scope.PASSBOOK
        )
        page = await uow.activity.page(account.account_id, before=before, limit=request.limit + 1)
        shown = page[: request.limit]
        return ActivityReply(
            events=[
                ActivityEntry(
                    at=event.occurred_at,
                    type=event.type,
                    channel=event.channel,
                    method=event.method,
                    outcome=event.outcome,
                    client_id=event.client_id,
                )
                for _, event in shown
            ],
            next=_cursor(shown[-1][0]) if len(page) > request.limit else None,
        )


@dataclass(frozen=True)
class AccountEvents:
    storage: Storage
    tokens: Tokens
    clock: Clock

    async def __call__(self, request: AccountEventsRequest) -> AccountEventsReply:
        before = _position(request.before)
        uow = self.storage.unit_of_work()
        await operator_signed_in(
            uow,
            self.tokens,
            request.access_token.strip(),
            self.clock(),
            needs=(Scope.OPERATOR_COUNTER, Scope.OPERATOR_ADMIN),
        )
        if await uow.accounts.by_id(request.account_id) is None:
            page = await uow.activity.page(request.account_id, before=None, limit=1)
            if not page:
                raise ServiceFailure(ErrorCode.NOT_FOUND)
        page = await uow.activity.page(request.account_id, before=before, limit=request.limit + 1)
        shown = page[: request.limit]
        return AccountEventsReply(
            events=[event for _, event in shown],
            next=_cursor(shown[-1][0]) if len(page) > request.limit else None,
        )
