"""FAQ 1: relying services sign people in through OpenID Connect (DESIGN "Relying services").

`/oauth2/authorize` comes here after the portal's own card + password login, or a phone's
device login (ID number + password + passkey): the session must be live and its account
allowed to use sessions, as for any bearer call; the protocol (client, redirect URI, scopes,
PKCE, nonce, consent, the code) is the provider's, and the code carries no scope beyond what
the session may hand on (`domain.oidc.handed_on`: a phone's, `openid passbook counter`).
The token, revocation, introspection and userinfo endpoints need no portal session: they
authenticate the client, or the access token.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from cardreg_shared.errors import ErrorCode, ServiceFailure
from cardreg_shared.models.common import Empty
from cardreg_shared.models.oidc import (
    ConsentList,
    ConsentView,
    ConsentWithdrawRequest,
    OidcAuthorizeReply,
    OidcAuthorizeRequest,
    OidcEndpointReply,
    OidcEndpointRequest,
)
from cardreg_shared.models.registry import TokenRequest

from ..domain.accounts import Account
from ..domain.oidc import oidc_scope_text
from ..domain.scopes import Scope
from ..domain.sessions import Session
from .bearer import signed_in
from .oidc_grants import CONSENT
from .ports import Clock, Storage, Tokens


class OidcProtocol(Protocol):
    async def authorize(
        self, request: OidcAuthorizeRequest, session: Session, account: Account
    ) -> OidcAuthorizeReply: ...

    async def endpoint(self, request: OidcEndpointRequest) -> OidcEndpointReply: ...


@dataclass(frozen=True)
class Authorize:
    storage: Storage
    tokens: Tokens
    protocol: OidcProtocol
    clock: Clock

    async def __call__(self, request: OidcAuthorizeRequest) -> OidcAuthorizeReply:
        uow = self.storage.unit_of_work()
        session, account = await signed_in(
            uow, self.tokens, request.access_token, self.clock(), needs=None
        )
        return await self.protocol.authorize(request, session, account)


@dataclass(frozen=True)
class Endpoint:
    protocol: OidcProtocol

    async def __call__(self, request: OidcEndpointRequest) -> OidcEndpointReply:
        return await self.protocol.endpoint(request)


@dataclass(frozen=True)
class ListConsents:
    """The relying services the holder consented to (a card login: `account`)."""

    storage: Storage
    tokens: Tokens
    clock: Clock

    async def __call__(self, request: TokenRequest) -> ConsentList:
        uow = self.storage.unit_of_work()
        _, account = await signed_in(
            uow, self.tokens, request.access_token, self.clock(), needs=Scope.ACCOUNT
        )
        views = []
        for consent in await uow.consents.of_account(account.account_id):
            client = await uow.clients.by_id(consent.client_id)
            if client is not None:
                views.append(
                    ConsentView(
                        client_id=client.client_id,
                        client_name=client.name,
                        scopes=oidc_scope_text(consent.scopes).split(),
                        created_at=consent.created_at,
                    )
                )
        return ConsentList(consents=views)


@dataclass(frozen=True)
class WithdrawConsent:
    """Withdraw a consent: the next sign-in asks again, and every sign-in of the account at
    that client (its grants: codes, refresh and access tokens) ends in the same commit."""

    storage: Storage
    tokens: Tokens
    clock: Clock

    async def __call__(self, request: ConsentWithdrawRequest) -> Empty:
        async with self.storage.unit_of_work() as uow:
            _, account = await signed_in(
                uow, self.tokens, request.access_token, self.clock(), needs=Scope.ACCOUNT
            )
            if await uow.consents.get(account.account_id, request.client_id) is None:
                raise ServiceFailure(ErrorCode.NOT_FOUND)
            uow.consents.withdraw(account.account_id, request.client_id)
            account.consent_recorded(
                self.clock(), CONSENT, granted=False, client_id=request.client_id
            )
            uow.grants.revoke_all(account.account_id, self.clock(), client_id=request.client_id)
            await uow.commit()
        return Empty()
